// LocalSandbox::exec with real child processes: environment allowlist,
// timeouts that kill everything (setsid included), exit codes, output caps,
// concurrent draining, closed descriptors and working directories.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <map>
#include <set>
#include <sstream>

#include "sandbox/local_sandbox.hpp"
#include "tests/sandbox/sandbox_test_support.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using sluice::sandbox::EnvMap;
using sluice::sandbox::ErrorKind;
using sluice::sandbox::ExecRequest;
using sluice::sandbox::ExecResult;
using sluice::sandbox::kInheritedVariables;
using sluice::sandbox::LocalSandbox;
using sluice::sandbox::LocalSandboxOptions;
using sluice::sandbox::test::children_of;
using sluice::sandbox::test::error_of;
using sluice::sandbox::test::process_exists;
using sluice::sandbox::test::read_pid;
using sluice::sandbox::test::run;
using sluice::sandbox::test::wait_for_file;
using sluice::test::TempDir;
namespace fs = std::filesystem;

namespace {

EnvMap parse_env(const std::string& text) {
  EnvMap env;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

}  // namespace

TEST_CASE("a command sees only allowlisted server variables plus the agent's layer") {
  ::setenv("SLUICE_TEST_SECRET", "hunter2", 1);
  ::setenv("SLUICE_TEST_SOURCE", "from-the-server", 1);
  ::setenv("TZ", "UTC", 1);
  ::setenv("LANG", "C.UTF-8", 1);
  ::unsetenv("SLUICE_TEST_UNSET");
  LocalSandboxOptions options;
  options.env = {{"AGENT_FLAG", "on"},
                 {"FROM_SERVER", "$SLUICE_TEST_SOURCE"},
                 {"DANGLING", "$SLUICE_TEST_UNSET"},
                 {"TZ", ""}};
  LocalSandbox sandbox(options);
  // The snapshot was taken at construction.
  ::setenv("SLUICE_TEST_SOURCE", "changed-later", 1);

  ExecResult result = run(sandbox, "env");
  REQUIRE(result.exit_code == 0);
  EnvMap env = parse_env(result.stdout_text);
  CHECK(env.count("SLUICE_TEST_SECRET") == 0);
  CHECK(result.stdout_text.find("hunter2") == std::string::npos);
  CHECK(env["AGENT_FLAG"] == "on");
  CHECK(env["FROM_SERVER"] == "from-the-server");
  CHECK(env.count("DANGLING") == 0);
  CHECK(env.count("TZ") == 0);  // an empty value removes an allowlisted one
  CHECK(env["LANG"] == "C.UTF-8");
  if (const char* path = std::getenv("PATH")) CHECK(env["PATH"] == path);

  std::set<std::string> allowed(kInheritedVariables.begin(), kInheritedVariables.end());
  allowed.insert({"AGENT_FLAG", "FROM_SERVER", "PWD", "OLDPWD", "SHLVL", "_"});
  for (const auto& [name, value] : env) {
    INFO(name);
    CHECK(allowed.count(name) == 1);
  }
  CHECK(sandbox.environment().at("FROM_SERVER") == "from-the-server");
  ::unsetenv("SLUICE_TEST_SECRET");
}

TEST_CASE("per-call variables go on top of the sandbox's, for that call only") {
  LocalSandboxOptions options;
  options.env = {{"AGENT_FLAG", "layer"}};
  LocalSandbox sandbox(options);
  ExecRequest request;
  request.command = "printf '%s|%s|%s' \"$AGENT_FLAG\" \"$PER_CALL\" \"${EMPTY-unset}\"";
  request.env = {{"AGENT_FLAG", "call"}, {"PER_CALL", "x y"}, {"EMPTY", ""}};
  CHECK(sandbox.exec(request).stdout_text == "call|x y|");

  CHECK(run(sandbox, "printf '%s|%s' \"$AGENT_FLAG\" \"${PER_CALL-unset}\"").stdout_text ==
        "layer|unset");
}

TEST_CASE("invalid environment entries are refused with a clear error") {
  LocalSandboxOptions options;
  options.env = {{"BAD=NAME", "x"}};
  auto error = error_of([&] { LocalSandbox sandbox(options); });
  CHECK(error.kind() == ErrorKind::kInvalidArgument);
  CHECK_THAT(error.what(), Catch::Contains("BAD=NAME"));

  LocalSandbox sandbox;
  ExecRequest request;
  request.command = "true";
  request.env = {{"", "x"}};
  CHECK(error_of([&] { sandbox.exec(request); }).kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("a timeout kills every process the command started, setsid and orphans included") {
  TempDir dir;
  LocalSandboxOptions options;
  options.cwd = dir.path();
  LocalSandbox sandbox(options);
  const std::string command =
      "echo $$ > shell.pid; "
      "setsid sh -c 'echo $$ > detached.pid; exec sleep 300' & "
      "sh -c 'echo $$ > child.pid; exec sleep 300' & "
      "(sh -c 'echo $$ > orphan.pid; exec sleep 300' &); "
      "while [ ! -s detached.pid ] || [ ! -s child.pid ] || [ ! -s orphan.pid ]; do sleep 0.05; "
      "done; echo started; sleep 300";
  ExecResult result = run(sandbox, command, 5000ms);

  CHECK(result.timed_out);
  CHECK(result.exit_code == 124);
  CHECK(result.stdout_text == "started\n");
  CHECK_THAT(result.stderr_text,
             Catch::EndsWith("sluice: command timed out after 5000 ms; every process it started "
                             "was killed\n"));
  for (const char* name : {"shell.pid", "detached.pid", "child.pid", "orphan.pid"}) {
    INFO(name);
    REQUIRE(fs::exists(dir / name));
    CHECK_FALSE(process_exists(read_pid(dir / name)));
  }
  // The supervisor was reaped too: no zombie is left below this process.
  CHECK(children_of(::getpid()).empty());
}

TEST_CASE("processes a command leaves running are killed when its shell exits") {
  TempDir dir;
  LocalSandboxOptions options;
  options.cwd = dir.path();
  LocalSandbox sandbox(options);
  // The background sleeper keeps stdout open: the call must still return.
  ExecResult result = run(sandbox,
                          "setsid sh -c 'echo $$ > background.pid; exec sleep 300' & "
                          "while [ ! -s background.pid ]; do sleep 0.05; done; echo done",
                          120s);
  CHECK_FALSE(result.timed_out);
  CHECK(result.exit_code == 0);
  CHECK(result.stdout_text == "done\n");
  CHECK_FALSE(process_exists(read_pid(dir / "background.pid")));
  CHECK(children_of(::getpid()).empty());
}

TEST_CASE("commands killed when the server dies") {
  TempDir dir;
  // A stand-in server: a child of this test that runs a command and is then
  // killed with SIGKILL while the command still runs.
  pid_t server = ::fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    LocalSandboxOptions options;
    options.cwd = dir.path();
    LocalSandbox sandbox(options);
    ExecRequest request;
    request.command = "setsid sh -c 'echo $$ > detached.pid; exec sleep 300' & sleep 300";
    request.timeout = 600s;
    try {
      sandbox.exec(request);
    } catch (...) {
    }
    ::_exit(0);  // never back into Catch2 in this copy of the test process
  }
  bool started = wait_for_file(dir / "detached.pid", 60s);
  ::kill(server, SIGKILL);
  ::waitpid(server, nullptr, 0);
  REQUIRE(started);
  pid_t detached = read_pid(dir / "detached.pid");
  // The supervisor notices on its own; give it generous time on a busy machine.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (process_exists(detached) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK_FALSE(process_exists(detached));
}

TEST_CASE("exit codes: the shell's, and 128+N for a signal") {
  LocalSandbox sandbox;
  ExecResult plain = run(sandbox, "echo out; echo err >&2; exit 3");
  CHECK(plain.exit_code == 3);
  CHECK(plain.stdout_text == "out\n");
  CHECK(plain.stderr_text == "err\n");
  CHECK_FALSE(plain.timed_out);
  CHECK_FALSE(plain.truncated);

  CHECK(run(sandbox, "kill -TERM $$").exit_code == 128 + SIGTERM);
  CHECK(run(sandbox, "exit 0").exit_code == 0);
}

TEST_CASE("output over the cap is dropped, flagged and noted") {
  LocalSandboxOptions options;
  options.output_cap_bytes = 1000;
  LocalSandbox sandbox(options);
  ExecResult result = run(sandbox, "head -c 5000 /dev/zero | tr '\\0' a; echo short >&2");
  CHECK(result.truncated);
  CHECK(result.stdout_text == std::string(1000, 'a') +
                                  "\nsluice: stdout truncated at 1000 bytes; 4000 more bytes "
                                  "were discarded\n");
  CHECK(result.stderr_text == "short\n");
  CHECK(result.exit_code == 0);
}

TEST_CASE("lots of output on both streams cannot deadlock") {
  LocalSandbox sandbox;  // 1 MiB per stream
  // 4 MiB to stderr before anything on stdout: a reader that waited on stdout
  // alone would never see the end.
  ExecResult big = run(sandbox,
                       "head -c 4194304 /dev/zero | tr '\\0' e >&2; "
                       "head -c 4194304 /dev/zero | tr '\\0' o",
                       300s);
  CHECK_FALSE(big.timed_out);
  CHECK(big.exit_code == 0);
  CHECK(big.truncated);
  CHECK(big.stdout_text.starts_with(std::string(1024 * 1024, 'o') + "\nsluice: stdout truncated"));
  CHECK(big.stderr_text.starts_with(std::string(1024 * 1024, 'e') + "\nsluice: stderr truncated"));

  ExecResult exact = run(sandbox,
                         "for i in 1 2 3; do head -c 100000 /dev/zero | tr '\\0' e >&2; "
                         "head -c 100000 /dev/zero | tr '\\0' o; done",
                         300s);
  CHECK_FALSE(exact.truncated);
  CHECK(exact.stdout_text == std::string(300000, 'o'));
  CHECK(exact.stderr_text == std::string(300000, 'e'));
}

TEST_CASE("output that is not UTF-8 comes back as valid text") {
  LocalSandbox sandbox;
  CHECK(run(sandbox, "printf 'a\\377b'").stdout_text ==
        "a\xEF\xBF\xBD"
        "b");
}

TEST_CASE("a command inherits none of the server's descriptors and reads /dev/null") {
  TempDir dir;
  sluice::sandbox::test::write_text(dir / "secret.db", "data");
  int leaked = ::open((dir / "secret.db").c_str(), O_RDONLY);  // no O_CLOEXEC on purpose
  REQUIRE(leaked >= 3);
  LocalSandbox sandbox;
  ExecResult result = run(sandbox, "ls /proc/$$/fd; cat");
  ::close(leaked);
  CHECK(result.stdout_text == "0\n1\n2\n");
  CHECK(result.exit_code == 0);
}

TEST_CASE("commands run concurrently from several threads") {
  LocalSandbox sandbox;
  std::vector<std::future<ExecResult>> runs;
  for (int i = 0; i < 6; ++i) {
    runs.push_back(std::async(std::launch::async, [&sandbox, i] {
      return run(sandbox,
                 "sleep 0.2; echo " + std::to_string(i) + "; echo e" + std::to_string(i) + " >&2");
    }));
  }
  for (int i = 0; i < 6; ++i) {
    ExecResult result = runs[static_cast<size_t>(i)].get();
    CHECK(result.stdout_text == std::to_string(i) + "\n");
    CHECK(result.stderr_text == "e" + std::to_string(i) + "\n");
  }
  CHECK(children_of(::getpid()).empty());
}

TEST_CASE("working directories: the server's by default, relative ones against it") {
  fs::path here = fs::canonical(fs::current_path());
  LocalSandbox by_default;
  CHECK(by_default.cwd() == here);
  CHECK(run(by_default, "pwd -P").stdout_text == here.string() + "\n");

  TempDir dir;
  fs::create_directories(dir / "sub/inner");
  fs::path real = fs::canonical(dir.path());
  LocalSandboxOptions options;
  options.cwd = fs::relative(dir.path(), fs::current_path());
  REQUIRE(options.cwd.is_relative());
  LocalSandbox sandbox(options);
  CHECK(sandbox.cwd() == real);
  CHECK(run(sandbox, "pwd -P").stdout_text == real.string() + "\n");

  ExecRequest request;
  request.command = "pwd -P";
  request.cwd = "sub/inner";
  CHECK(sandbox.exec(request).stdout_text == (real / "sub/inner").string() + "\n");
  request.cwd = (real / "sub").string();
  CHECK(sandbox.exec(request).stdout_text == (real / "sub").string() + "\n");

  request.cwd = "missing";
  auto missing = error_of([&] { sandbox.exec(request); });
  CHECK(missing.kind() == ErrorKind::kNotFound);
  CHECK_THAT(missing.what(), Catch::Contains("missing"));
  sluice::sandbox::test::write_text(dir / "file.txt", "x");
  request.cwd = "file.txt";
  CHECK(error_of([&] { sandbox.exec(request); }).kind() == ErrorKind::kNotADirectory);

  LocalSandboxOptions nowhere;
  nowhere.cwd = dir / "does-not-exist";
  CHECK(error_of([&] { LocalSandbox s(nowhere); }).kind() == ErrorKind::kNotFound);
}

TEST_CASE("commands that cannot be run are refused") {
  LocalSandbox sandbox;
  ExecRequest request;
  request.command = std::string("echo a\0b", 8);
  CHECK(error_of([&] { sandbox.exec(request); }).kind() == ErrorKind::kInvalidArgument);
  request.command = "true";
  request.timeout = 0ms;
  CHECK(error_of([&] { sandbox.exec(request); }).kind() == ErrorKind::kInvalidArgument);
}
