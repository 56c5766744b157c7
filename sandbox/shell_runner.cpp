#include "sandbox/shell_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sandbox/supervisor.hpp"
#include "sandbox/unique_fd.hpp"
#include "sandbox/utf8.hpp"

namespace sluice::sandbox {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// O_CLOEXEC: a command started by another worker thread at the same moment
// must not inherit this one's pipes (it would hold them open).
Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw SandboxError(ErrorKind::kIo, std::string("pipe2 failed: ") + std::strerror(errno));
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// One output stream: keeps the first `cap` bytes and counts the rest.
struct Capture {
  std::string kept;
  size_t dropped = 0;

  void add(const char* data, size_t size, size_t cap) {
    size_t room = cap > kept.size() ? cap - kept.size() : 0;
    size_t take = std::min(room, size);
    kept.append(data, take);
    dropped += size - take;
  }
};

// Reads the three pipes together until each has reached end of file. Reading
// them together is what keeps a command that fills one pipe while we would be
// waiting on another from blocking forever.
void drain(UniqueFd& out, UniqueFd& err, UniqueFd& report_fd, Capture& out_capture,
           Capture& err_capture, std::string& report_bytes, size_t cap) {
  std::vector<char> buffer(64 * 1024);
  while (out.valid() || err.valid() || report_fd.valid()) {
    std::array<pollfd, 3> watched{{{out.get(), POLLIN, 0},
                                   {err.get(), POLLIN, 0},
                                   {report_fd.get(), POLLIN, 0}}};  // fd -1 is skipped
    if (::poll(watched.data(), watched.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw SandboxError(ErrorKind::kIo, std::string("poll failed: ") + std::strerror(errno));
    }
    std::array<UniqueFd*, 3> fds{&out, &err, &report_fd};
    for (size_t i = 0; i < fds.size(); ++i) {
      if (watched[i].fd < 0 || watched[i].revents == 0) continue;
      ssize_t n = ::read(fds[i]->get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i]->reset();
        continue;
      }
      size_t size = static_cast<size_t>(n);
      if (i == 0) out_capture.add(buffer.data(), size, cap);
      if (i == 1) err_capture.add(buffer.data(), size, cap);
      if (i == 2) report_bytes.append(buffer.data(), size);
    }
  }
}

// The supervisor child; reaped on every path, also when collecting throws:
// closing the lifeline makes it kill the command and exit.
class SupervisorProcess {
 public:
  SupervisorProcess(pid_t pid, UniqueFd lifeline) : pid_(pid), lifeline_(std::move(lifeline)) {}
  ~SupervisorProcess() {
    if (pid_ > 0) reap();
  }
  SupervisorProcess(const SupervisorProcess&) = delete;
  SupervisorProcess& operator=(const SupervisorProcess&) = delete;

  // Its wait status, or -1 when something else already reaped it.
  int reap() {
    lifeline_.reset();
    int status = 0;
    pid_t reaped;
    do {
      reaped = ::waitpid(pid_, &status, 0);
    } while (reaped < 0 && errno == EINTR);
    pid_ = -1;
    return reaped < 0 ? -1 : status;
  }

 private:
  pid_t pid_;
  UniqueFd lifeline_;
};

std::string finish_stream(const Capture& capture, const char* name, size_t cap) {
  std::string text = to_valid_utf8(capture.kept);
  if (capture.dropped > 0) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "sluice: " + std::string(name) + " truncated at " + std::to_string(cap) + " bytes; " +
            std::to_string(capture.dropped) + " more bytes were discarded\n";
  }
  return text;
}

}  // namespace

ExecResult run_shell_command(const ShellCommand& command) {
  if (command.command.find('\0') != std::string::npos) {
    throw SandboxError(ErrorKind::kInvalidArgument, "the command holds a NUL byte");
  }
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

  Capture out_capture, err_capture;
  std::string report_bytes;
  drain(out.read, err.read, report.read, out_capture, err_capture, report_bytes,
        command.output_cap);
  int status = supervisor.reap();

  SupervisorReport outcome;
  if (report_bytes.size() != sizeof outcome) {
    std::string how = status == -1 ? "vanished"
                      : WIFSIGNALED(status)
                          ? "was killed by signal " + std::to_string(WTERMSIG(status))
                          : "failed to set up";
    throw SandboxError(ErrorKind::kIo, "the sandbox's supervisor process " + how);
  }
  std::memcpy(&outcome, report_bytes.data(), sizeof outcome);
  if (outcome.outcome == SupervisorReport::kSpawnFailed) {
    throw SandboxError(ErrorKind::kIo,
                       std::string("could not start /bin/sh: ") + std::strerror(outcome.value));
  }

  ExecResult result;
  result.stdout_text = finish_stream(out_capture, "stdout", command.output_cap);
  result.stderr_text = finish_stream(err_capture, "stderr", command.output_cap);
  result.truncated = out_capture.dropped > 0 || err_capture.dropped > 0;
  switch (outcome.outcome) {
    case SupervisorReport::kExited:
      result.exit_code = outcome.value;
      break;
    case SupervisorReport::kSignaled:
      result.exit_code = 128 + outcome.value;  // as shells report it
      break;
    default:  // kTimedOut (kAbandoned cannot happen: the lifeline was open)
      result.timed_out = true;
      result.exit_code = 124;  // as timeout(1) reports it
      if (!result.stderr_text.empty() && result.stderr_text.back() != '\n') {
        result.stderr_text += '\n';
      }
      result.stderr_text += "sluice: command timed out after " +
                            std::to_string(command.timeout.count()) +
                            " ms; every process it started was killed\n";
  }
  return result;
}

}  // namespace sluice::sandbox
