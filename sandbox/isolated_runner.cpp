// A command under bubblewrap: the server spawns bwrap (posix_spawn, so no copy
// of the server's memory), bwrap's init is the command's PID 1, and the
// server's worker thread keeps the clock. At the timeout it kills bwrap, and
// --die-with-parent takes the init, and with it the whole PID namespace, down.
#include <sys/wait.h>

#include <csignal>

#include "sandbox/bubblewrap.hpp"
#include "sandbox/command_output.hpp"
#include "sandbox/command_runners.hpp"
#include "sandbox/isolation.hpp"
#include "sandbox/spawn.hpp"

namespace sluice::sandbox {
namespace {

// Output written just before the end still arrives; a pipe held open past
// this (impossible once the namespace is gone) is abandoned.
constexpr std::chrono::milliseconds kDrainGrace{1'000};

// The bwrap process, killed and reaped on every path.
class SpawnedProcess {
 public:
  explicit SpawnedProcess(pid_t pid) : pid_(pid) {}
  ~SpawnedProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap(pid_);
    }
  }
  SpawnedProcess(const SpawnedProcess&) = delete;
  SpawnedProcess& operator=(const SpawnedProcess&) = delete;

  pid_t pid() const { return pid_; }
  int wait() { return reap(std::exchange(pid_, -1)); }

 private:
  pid_t pid_;
};

}  // namespace

ExecResult run_isolated_command(const ShellCommand& command) {
  const IsolationSupport& support = bubblewrap_support();
  if (!support.available) {
    throw SandboxError(ErrorKind::kUnavailable, "bubblewrap cannot run here: " + support.reason);
  }
  BubblewrapPlan plan{support.bwrap,
                      command.writable,
                      command.cwd,
                      command.hidden,
                      {"/bin/sh", "-c", command.command}};
  SpawnPlan spawn{bubblewrap_argv(plan), {}, -1, -1};
  for (const auto& [name, value] : command.env) spawn.env.push_back(name + "=" + value);

  Pipe out = make_pipe(), err = make_pipe();
  spawn.stdout_fd = out.write.get();
  spawn.stderr_fd = err.write.get();
  SpawnedProcess bwrap(spawn_program(spawn));
  out.write.reset();
  err.write.reset();
  UniqueFd handle = process_handle(bwrap.pid());

  Capture out_capture, err_capture;
  const PumpTarget target{out.read,           err.read,    handle.get(),
                          command.output_cap, out_capture, err_capture};
  const auto deadline = std::chrono::steady_clock::now() + command.timeout;
  bool exited = pump_output(target, deadline, kDrainGrace, [] {});
  if (!exited) ::kill(bwrap.pid(), SIGKILL);
  const int status = bwrap.wait();

  ExecResult result = captured_result(out_capture, err_capture, command.output_cap);
  if (!exited) {
    mark_timed_out(result, command.timeout);
  } else if (status >= 0 && WIFEXITED(status)) {
    // bwrap exits with the shell's code, 128+N when a signal ended it.
    result.exit_code = WEXITSTATUS(status);
  } else {
    result.exit_code = status >= 0 && WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  }
  return result;
}

}  // namespace sluice::sandbox
