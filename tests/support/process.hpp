#pragma once
// Child processes for tests (usually the sluice binary, SLUICE_BINARY), and
// waiting for them to listen.
//
//   TempDir dir;
//   uint16_t port = free_port();
//   Process server({.argv = {SLUICE_BINARY, "serve"},
//                   .env = {{"PORT", std::to_string(port)}},
//                   .stdout_path = dir.path() / "out.log",
//                   .stderr_path = dir.path() / "err.log"});
//   REQUIRE(wait_for_http_ok(port, "/healthz", 10s, &server));
//   server.kill(SIGTERM);
//   auto status = server.wait(10s);
//   REQUIRE(status);
//   CHECK(status->exited_with(0));
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::test {

using namespace std::chrono_literals;

enum class EnvBase {
  kMinimal,  // only PATH, HOME, TMPDIR and the sanitizers' *SAN_OPTIONS of this process
  kInherit,  // this process's whole environment
};

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env;  // set on top of env_base, winning over it
  EnvBase env_base = EnvBase::kMinimal;
  std::filesystem::path stdout_path;  // empty: /dev/null
  std::filesystem::path stderr_path;  // empty: /dev/null
  std::filesystem::path working_dir;  // empty: this process's
};

struct ExitStatus {
  int code = -1;   // exit code when it exited, else -1
  int signal = 0;  // the signal that ended it, else 0

  bool exited_with(int expected) const { return signal == 0 && code == expected; }
  bool killed_by(int expected) const { return signal == expected; }
};

class Process {
 public:
  // Starts the child; throws std::runtime_error when it cannot be spawned.
  explicit Process(ProcessOptions options);
  ~Process();  // SIGKILL and reap when still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Sends a signal (no-op once reaped).
  void kill(int signal = SIGTERM);
  // Reaps the child: its status, or nullopt when still running at the timeout.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // Whether it still runs (reaps it when it has ended).
  bool running();
  // The status once reaped.
  std::optional<ExitStatus> status() const { return status_; }
  // What it wrote to its redirected stdout / stderr so far ("" for /dev/null).
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  bool try_reap(bool block);

  ProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// An unused loopback TCP port (bound then released: another process may take
// it before the caller does, which is rare enough for tests).
uint16_t free_port();
// Until a TCP connect to 127.0.0.1:port succeeds; false at the timeout or when
// `process` (if given) has ended.
bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout, Process* process = nullptr);
// Until GET path answers 200 on 127.0.0.1:port; same false cases.
bool wait_for_http_ok(uint16_t port, const std::string& path, std::chrono::milliseconds timeout,
                      Process* process = nullptr);

}  // namespace sluice::test
