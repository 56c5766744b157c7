#pragma once
// The supervisor: a small process forked per command, between the server and
// /bin/sh. It is a child subreaper, so every process the command starts stays
// below it whatever it does (setsid, double fork); when the shell exits, the
// timeout passes or the server goes away, it kills all of them, reaps them,
// reports and exits. So a command never outlives its call and leaves no
// zombie.
//
// It runs in a fork of the multithreaded server without exec'ing: everything
// it does is async-signal-safe. All its inputs are prepared before the fork.
// Being a fork, it carries the server's memory and runs as the server's user:
// the command can read or kill it. This is the isolation = "none" path
// (docs/security-tools.md); the server therefore keeps its own clock and
// kills the command's process group itself when the supervisor vanishes.
#include <cstdint>

namespace sluice::sandbox {

struct SupervisorPlan {
  char* const* argv;  // {"/bin/sh", "-c", command, nullptr}
  char* const* envp;  // "NAME=value" strings, nullptr-terminated
  const char* cwd;    // absolute
  int64_t timeout_ms;
  // Pipe ends in the server's numbering; the supervisor moves them.
  int stdout_fd;
  int stderr_fd;
  int report_fd;    // receives one SupervisorReport
  int lifeline_fd;  // read end; EOF means the server is gone or gave up
};

// What the supervisor writes to report_fd: kStarted once the shell runs, then
// the outcome before it exits (each one write, well under PIPE_BUF, so it
// arrives whole or not at all).
struct SupervisorReport {
  enum Outcome : int32_t {
    kExited = 1,       // value: the shell's exit code
    kSignaled = 2,     // value: the signal that ended the shell
    kTimedOut = 3,     // value: unused
    kSpawnFailed = 4,  // value: errno of the failed fork
    kAbandoned = 5,    // the lifeline closed first; value unused
    kStarted = 6,      // value: the shell's process id, which leads its process group
  };
  int32_t outcome = 0;
  int32_t value = 0;
};

// Call only in the child of fork(); never returns.
[[noreturn]] void run_supervisor(const SupervisorPlan& plan);

}  // namespace sluice::sandbox
