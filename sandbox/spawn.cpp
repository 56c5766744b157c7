#include "sandbox/spawn.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {
namespace {

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& text : strings) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

pid_t spawn_program(const SpawnPlan& plan) {
  SpawnSetup setup;
  // The server ignores or blocks some signals (SIGPIPE; SIGINT and SIGTERM
  // for sigwait): the program starts with the defaults.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&setup.attributes, &all);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  for (auto [from, to] : {std::pair{plan.stdout_fd, 1}, std::pair{plan.stderr_fd, 2}}) {
    if (from < 0) {
      posix_spawn_file_actions_addopen(&setup.actions, to, "/dev/null", O_WRONLY, 0);
    } else {
      posix_spawn_file_actions_adddup2(&setup.actions, from, to);
    }
  }
  // The server's sockets, database files and other commands' pipes stay
  // behind, also those a library opened without O_CLOEXEC.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);

  std::vector<std::string> argv_strings = plan.argv, env_strings = plan.env;
  std::vector<char*> argv = pointers(argv_strings), envp = pointers(env_strings);
  pid_t pid = -1;
  const int failed =
      ::posix_spawn(&pid, argv[0], &setup.actions, &setup.attributes, argv.data(), envp.data());
  if (failed != 0) {
    throw SandboxError(ErrorKind::kIo,
                       "cannot start " + plan.argv[0] + ": " + std::strerror(failed));
  }
  return pid;
}

UniqueFd process_handle(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    throw SandboxError(ErrorKind::kIo, std::string("pidfd_open failed: ") + std::strerror(errno));
  }
  ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return UniqueFd(static_cast<int>(fd));
}

int reap(pid_t pid) {
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  return reaped < 0 ? -1 : status;
}

}  // namespace sluice::sandbox
