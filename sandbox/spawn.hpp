#pragma once
// Starting a program without forking the server: posix_spawn (a vfork that
// execs at once), so the child never holds a copy of the server's memory,
// where secrets live. Blocking helpers for sandbox worker threads.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "sandbox/unique_fd.hpp"

namespace sluice::sandbox {

struct SpawnPlan {
  std::vector<std::string> argv;  // argv[0] is the program's path
  std::vector<std::string> env;   // "NAME=value"
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: /dev/null
};

// The child: stdin /dev/null, stdout and stderr as planned, no other
// descriptor, default signal dispositions, nothing blocked, a process group
// of its own. Throws SandboxError (io_error) when it cannot be started.
pid_t spawn_program(const SpawnPlan& plan);

// A descriptor that polls readable once the child has exited (pidfd).
// Throws SandboxError (io_error) on failure.
UniqueFd process_handle(pid_t pid);

// Reaps the child, retrying on EINTR; its wait status, or -1 when it was
// already reaped elsewhere.
int reap(pid_t pid);

}  // namespace sluice::sandbox
