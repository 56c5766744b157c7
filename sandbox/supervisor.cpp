#include "sandbox/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include "sandbox/child_reaper.hpp"

namespace sluice::sandbox {
namespace {

// The supervisor's descriptors after setup; the shell inherits 0-2.
constexpr int kReportFd = 3;
constexpr int kLifelineFd = 4;

void write_all(int fd, const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    ssize_t n = ::write(fd, text, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

void send_report(SupervisorReport record) {
  ssize_t ignored = ::write(kReportFd, &record, sizeof record);
  (void)ignored;  // nobody is left to tell when this fails
}

[[noreturn]] void finish(SupervisorReport outcome) {
  send_report(outcome);
  ::_exit(0);
}

// 0 /dev/null, 1 stdout pipe, 2 stderr pipe, 3 report, 4 lifeline; every
// other descriptor (the server's sockets, database files, other commands'
// pipes) closed. False when a descriptor could not be arranged.
bool arrange_descriptors(const SupervisorPlan& plan) {
  int wanted[5] = {::open("/dev/null", O_RDWR | O_CLOEXEC), plan.stdout_fd, plan.stderr_fd,
                   plan.report_fd, plan.lifeline_fd};
  // Copies above every target first, so no dup2 overwrites a source still needed.
  int copies[5];
  for (int i = 0; i < 5; ++i) {
    if (wanted[i] < 0) return false;
    copies[i] = ::fcntl(wanted[i], F_DUPFD_CLOEXEC, 10);
    if (copies[i] < 0) return false;
  }
  for (int i = 0; i < 5; ++i) {
    if (::dup2(copies[i], i) < 0) return false;
  }
  ::close_range(5, ~0U, 0);
  return true;
}

[[noreturn]] void exec_shell(const SupervisorPlan& plan) {
  // Its own session: the command has no controlling terminal, and the whole
  // group can be killed at once.
  ::setsid();
  // The server ignores or blocks some signals (SIGPIPE, SIGINT/SIGTERM for
  // sigwait); a command must start with the defaults.
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &defaults, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::close_range(3, ~0U, 0);
  if (::chdir(plan.cwd) != 0) {
    write_all(2, "sluice: cannot enter the working directory ");
    write_all(2, plan.cwd);
    write_all(2, "\n");
    ::_exit(127);
  }
  ::execve("/bin/sh", plan.argv, plan.envp);
  write_all(2, "sluice: cannot run /bin/sh\n");
  ::_exit(127);
}

int64_t now_ms() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

// Waits for the shell to exit, the deadline or the lifeline to close. The
// shell is left unreaped (a zombie) so that its process id, and with it the id
// of the group the caller kills next, cannot be reused meanwhile.
SupervisorReport wait_for_shell(pid_t shell, int child_signals, int64_t timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    siginfo_t ended{};
    while (::waitid(P_ALL, 0, &ended, WEXITED | WNOHANG | WNOWAIT) == 0 && ended.si_pid != 0) {
      if (ended.si_pid == shell) {
        if (ended.si_code == CLD_EXITED) return {SupervisorReport::kExited, ended.si_status};
        return {SupervisorReport::kSignaled, ended.si_status};
      }
      // An orphan of the command, reparented here.
      ::waitpid(ended.si_pid, nullptr, 0);
      ended = {};
    }
    int64_t left = deadline - now_ms();
    if (left <= 0) return {SupervisorReport::kTimedOut, 0};
    pollfd watched[2] = {{child_signals, POLLIN, 0}, {kLifelineFd, POLLIN, 0}};
    int ready = ::poll(watched, 2, left > 60'000 ? 60'000 : static_cast<int>(left));
    if (ready > 0 && watched[1].revents != 0) return {SupervisorReport::kAbandoned, 0};
    if (ready > 0 && watched[0].revents != 0) {
      signalfd_siginfo info;
      while (::read(child_signals, &info, sizeof info) > 0) {
      }
    }
  }
}

}  // namespace

void run_supervisor(const SupervisorPlan& plan) {
  // Signals are only ever read through the signalfd; the supervisor itself
  // must not die of a terminal's SIGINT or a closed pipe.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  // With SIGCHLD ignored (inherited from the server), children would reap
  // themselves and waitpid could not report the shell's exit code.
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &defaults, nullptr);

  if (!arrange_descriptors(plan)) ::_exit(1);  // the server sees no report
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigset_t child_set;
  sigemptyset(&child_set);
  sigaddset(&child_set, SIGCHLD);
  int child_signals = ::signalfd(-1, &child_set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (child_signals < 0) finish({SupervisorReport::kSpawnFailed, errno});

  pid_t shell = ::fork();
  if (shell < 0) finish({SupervisorReport::kSpawnFailed, errno});
  if (shell == 0) exec_shell(plan);
  send_report({SupervisorReport::kStarted, shell});

  SupervisorReport report = wait_for_shell(shell, child_signals, plan.timeout_ms);
  // The command's life ends with the shell's: whatever it left running (in
  // the background, in another session) is killed too.
  ::kill(-shell, SIGKILL);
  kill_and_reap_all_children();
  finish(report);
}

}  // namespace sluice::sandbox
