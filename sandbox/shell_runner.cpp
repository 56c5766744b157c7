#include "sandbox/shell_runner.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <vector>

#include "sandbox/command_output.hpp"
#include "sandbox/command_runners.hpp"
#include "sandbox/spawn.hpp"
#include "sandbox/supervisor.hpp"

namespace sluice::sandbox {
namespace {

// The supervisor keeps the timeout itself; the server waits this much longer
// before it stops trusting it (the command may have stopped or killed it).
constexpr std::chrono::milliseconds kSupervisorSlack{2'000};
// Once the supervisor is gone, output still in flight is read for this long;
// a pipe held open past it (a process that escaped) is abandoned.
constexpr std::chrono::milliseconds kDrainGrace{1'000};

// The supervisor child; killed if need be and reaped on every path, also when
// collecting throws.
class SupervisorProcess {
 public:
  SupervisorProcess(pid_t pid, UniqueFd lifeline) : pid_(pid), lifeline_(std::move(lifeline)) {}
  ~SupervisorProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  SupervisorProcess(const SupervisorProcess&) = delete;
  SupervisorProcess& operator=(const SupervisorProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Its wait status, or -1 when something else already reaped it. Closing
  // the lifeline first makes a supervisor still running kill the command.
  int wait() {
    lifeline_.reset();
    return reap(std::exchange(pid_, -1));
  }

 private:
  pid_t pid_;
  UniqueFd lifeline_;
};

// Everything the supervisor reported, read once it has exited (its write end
// is then closed, so this ends).
struct Reports {
  pid_t shell = -1;
  std::optional<SupervisorReport> outcome;
};

Reports read_reports(int fd) {
  Reports reports;
  SupervisorReport record;
  for (;;) {
    const ssize_t n = ::read(fd, &record, sizeof record);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof record)) return reports;
    if (record.outcome == SupervisorReport::kStarted) {
      reports.shell = record.value;
    } else {
      reports.outcome = record;
    }
  }
}

}  // namespace

ExecResult run_shell_command(const ShellCommand& command) {
  if (command.command.find('\0') != std::string::npos) {
    throw SandboxError(ErrorKind::kInvalidArgument, "the command holds a NUL byte");
  }
  return command.isolation == Isolation::kBubblewrap ? run_isolated_command(command)
                                                     : run_supervised_command(command);
}

ExecResult run_supervised_command(const ShellCommand& command) {
  // Everything the child needs is built before fork: after it, the child may
  // not allocate.
  std::string shell = "/bin/sh", flag = "-c", text = command.command, cwd = command.cwd;
  std::vector<char*> argv{shell.data(), flag.data(), text.data(), nullptr};
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : command.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  Pipe out = make_pipe(), err = make_pipe(), report = make_pipe(), lifeline = make_pipe();
  SupervisorPlan plan{argv.data(),     envp.data(),     cwd.c_str(),        command.timeout.count(),
                      out.write.get(), err.write.get(), report.write.get(), lifeline.read.get()};
  pid_t pid = ::fork();
  if (pid < 0) {
    throw SandboxError(ErrorKind::kIo, std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) run_supervisor(plan);

  SupervisorProcess supervisor(pid, std::move(lifeline.write));
  out.write.reset();
  err.write.reset();
  report.write.reset();
  lifeline.read.reset();
  UniqueFd handle = process_handle(pid);

  Capture out_capture, err_capture;
  Reports reports;
  // A supervisor that ends without its outcome was killed (by the command,
  // as like as not): the command's process group goes at once, so that
  // neither its processes nor the pipes they hold outlive the call.
  const auto on_exit = [&] {
    reports = read_reports(report.read.get());
    if (!reports.outcome && reports.shell > 0) ::kill(-reports.shell, SIGKILL);
  };
  const PumpTarget target{out.read,           err.read,    handle.get(),
                          command.output_cap, out_capture, err_capture};
  const auto deadline = std::chrono::steady_clock::now() + command.timeout + kSupervisorSlack;
  if (!pump_output(target, deadline, kDrainGrace, on_exit)) {
    // The supervisor outlived its own deadline: it was stopped.
    ::kill(supervisor.pid(), SIGKILL);
    supervisor.wait();
    on_exit();
    ExecResult result = captured_result(out_capture, err_capture, command.output_cap);
    mark_timed_out(result, command.timeout);
    return result;
  }
  const int status = supervisor.wait();

  if (!reports.outcome) {
    std::string how = status == -1 ? "vanished"
                      : WIFSIGNALED(status)
                          ? "was killed by signal " + std::to_string(WTERMSIG(status))
                          : "failed to set up";
    throw SandboxError(ErrorKind::kIo, "the sandbox's supervisor process " + how +
                                           "; the command's process group was killed");
  }
  const SupervisorReport outcome = *reports.outcome;
  if (outcome.outcome == SupervisorReport::kSpawnFailed) {
    throw SandboxError(ErrorKind::kIo,
                       std::string("could not start /bin/sh: ") + std::strerror(outcome.value));
  }
  ExecResult result = captured_result(out_capture, err_capture, command.output_cap);
  switch (outcome.outcome) {
    case SupervisorReport::kExited:
      result.exit_code = outcome.value;
      break;
    case SupervisorReport::kSignaled:
      result.exit_code = 128 + outcome.value;  // as shells report it
      break;
    default:  // kTimedOut (kAbandoned cannot happen: the lifeline was open)
      mark_timed_out(result, command.timeout);
  }
  return result;
}

}  // namespace sluice::sandbox
