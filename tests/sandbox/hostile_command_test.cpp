// Commands that attack their own supervision (issue 12), with real processes:
// under isolation = "none" a command that kills its supervisor still cannot
// keep the call (or its pipes) past a moment; under bubblewrap it cannot see
// or signal anything outside, nor read hidden files, nor write outside its
// folder, and every process it starts dies with it.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "sandbox/isolation.hpp"
#include "sandbox/local_sandbox.hpp"
#include "tests/sandbox/sandbox_test_support.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using sluice::sandbox::bubblewrap_support;
using sluice::sandbox::ErrorKind;
using sluice::sandbox::ExecRequest;
using sluice::sandbox::ExecResult;
using sluice::sandbox::Isolation;
using sluice::sandbox::LocalSandbox;
using sluice::sandbox::LocalSandboxOptions;
using sluice::sandbox::SandboxError;
using sluice::sandbox::test::error_of;
using sluice::sandbox::test::read_pid;
using sluice::sandbox::test::run;
using sluice::sandbox::test::read_text;
using sluice::sandbox::test::write_text;
using sluice::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::chrono::steady_clock::duration time_of(const std::function<void()>& action) {
  const auto start = std::chrono::steady_clock::now();
  action();
  return std::chrono::steady_clock::now() - start;
}

// Running, not merely a zombie: a process whose parent was killed is
// reparented to PID 1, which in a container may never reap it.
bool running(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

// CI installs bubblewrap (scripts/install-deps.sh); elsewhere these tests say
// why they did not run.
bool have_bubblewrap() {
  if (bubblewrap_support().available) return true;
  WARN("bubblewrap cannot run here: " << bubblewrap_support().reason);
  return false;
}

LocalSandbox isolated(const fs::path& cwd, sluice::sandbox::HiddenPaths hidden = {}) {
  LocalSandboxOptions options;
  options.cwd = cwd;
  options.isolation = Isolation::kBubblewrap;
  options.hidden = std::move(hidden);
  return LocalSandbox(options);
}

}  // namespace

TEST_CASE("isolation none: a command that kills its supervisor ends the call at once") {
  TempDir dir;
  LocalSandboxOptions options;
  options.cwd = dir.path();
  LocalSandbox sandbox(options);
  // The background job holds stdout open; the shell lives on after the kill.
  const std::string command = "(sleep 60; echo late) & echo $! > job.pid; kill -9 $PPID; sleep 60";
  const auto took = time_of([&] {
    try {
      run(sandbox, command);
    } catch (const SandboxError& error) {
      CHECK(std::string(error.what()).find("supervisor") != std::string::npos);
    }
  });
  CHECK(took < 10s);
  REQUIRE(fs::exists(dir / "job.pid"));
  std::this_thread::sleep_for(200ms);
  CHECK_FALSE(running(read_pid(dir / "job.pid")));
}

TEST_CASE("isolation none: a stopped supervisor cannot hold the call past its timeout") {
  TempDir dir;
  LocalSandboxOptions options;
  options.cwd = dir.path();
  LocalSandbox sandbox(options);
  ExecResult result;
  const auto took = time_of([&] { result = run(sandbox, "kill -STOP $PPID; sleep 60", 1000ms); });
  CHECK(took < 8s);
  CHECK(result.timed_out);
  CHECK(result.exit_code == 124);
}

TEST_CASE("bubblewrap: killing its supervisor or init frees nothing, and nothing outlives it") {
  if (!have_bubblewrap()) return;
  TempDir dir;
  LocalSandbox sandbox = isolated(dir.path());
  ExecResult result;
  const auto took = time_of([&] {
    result = run(sandbox,
                 "SUP=$(awk '/^PPid/{print $2}' /proc/$PPID/status); "
                 "(sleep 3; echo late > late.txt) & kill -9 $PPID $SUP 1; echo survived");
  });
  CHECK(took < 5s);
  CHECK(result.stdout_text.find("late") == std::string::npos);
  std::this_thread::sleep_for(4s);
  CHECK_FALSE(fs::exists(dir / "late.txt"));
}

TEST_CASE("bubblewrap: the timeout holds even when the command keeps its pipes open") {
  if (!have_bubblewrap()) return;
  TempDir dir;
  LocalSandbox sandbox = isolated(dir.path());
  ExecResult result;
  const auto took = time_of([&] {
    result = run(sandbox, "setsid sh -c 'sleep 60' & (sleep 60) & echo started; sleep 60", 700ms);
  });
  CHECK(took < 4s);
  CHECK(result.timed_out);
  CHECK(result.exit_code == 124);
  CHECK(result.stdout_text == "started\n");
  CHECK(run(sandbox, "exit 7").exit_code == 7);
  CHECK(run(sandbox, "kill -9 $$").exit_code == 137);
}

TEST_CASE("bubblewrap: the command sees no process outside and cannot signal this one") {
  if (!have_bubblewrap()) return;
  TempDir dir;
  LocalSandbox sandbox = isolated(dir.path());
  const std::string self = std::to_string(::getpid());
  ExecResult result =
      run(sandbox, "ls /proc/" + self + " >/dev/null 2>&1 && echo SEEN; kill -9 " + self +
                       " 2>/dev/null && echo KILLED; "
                       "ls -d /proc/[0-9]* | wc -l");
  CHECK(result.stdout_text.find("SEEN") == std::string::npos);
  CHECK(result.stdout_text.find("KILLED") == std::string::npos);
  // bwrap's init, the shell, ls and wc at most.
  CHECK(std::stoi(result.stdout_text) <= 5);
}

TEST_CASE("bubblewrap: hidden files are empty, only the working directory is writable") {
  if (!have_bubblewrap()) return;
  TempDir dir;
  write_text(dir / "secret" / "db.sqlite", "zz-database-zz");
  write_text(dir / "work" / ".env", "zz-dotenv-zz");
  write_text(dir / "other" / "note", "visible");  // under /tmp: not in the command's view
  LocalSandbox sandbox =
      isolated(dir / "work", {dir / "secret", dir / "work" / ".env", dir / "missing"});
  ExecResult result = run(sandbox, "cat " + (dir / "secret" / "db.sqlite").string() +
                                       " .env /etc/passwd 2>/dev/null; echo; "
                                       "echo mine > mine.txt && echo WROTE; "
                                       "echo x > /etc/sluice-x 2>/dev/null || echo READ-ONLY; "
                                       "echo x > /tmp/sluice-private-probe && echo PRIVATE-TMP");
  INFO(result.stdout_text << result.stderr_text);
  CHECK(result.stdout_text.find("zz-") == std::string::npos);
  CHECK(result.stdout_text.find("root:") != std::string::npos);
  CHECK(result.stdout_text.find("PRIVATE-TMP") != std::string::npos);
  CHECK(result.stdout_text.find("WROTE") != std::string::npos);
  CHECK(result.stdout_text.find("READ-ONLY") != std::string::npos);
  CHECK(read_text(dir / "work" / "mine.txt") == "mine\n");
  CHECK_FALSE(fs::exists("/etc/sluice-x"));
  CHECK_FALSE(fs::exists("/tmp/sluice-private-probe"));

  // The file tools keep to the same view.
  CHECK(error_of([&] { sandbox.read((dir / "secret" / "db.sqlite").string()); }).kind() ==
        ErrorKind::kPermissionDenied);
  CHECK(error_of([&] { sandbox.read(".env"); }).kind() == ErrorKind::kPermissionDenied);
  CHECK(error_of([&] { sandbox.write("../other/y", "y"); }).kind() == ErrorKind::kPermissionDenied);
  CHECK(sandbox.read((dir / "other" / "note").string()) == "visible");
  sandbox.write("sub/file", "ok");
  CHECK(read_text(dir / "work" / "sub" / "file") == "ok");
}
