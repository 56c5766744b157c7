#include "sandbox/child_reaper.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <ctime>

namespace sluice::sandbox {
namespace {

// "123" -> 123; -1 when the name is not a process id (e.g. "self", "net").
pid_t parse_pid(const char* name) {
  if (*name == '\0') return -1;
  long value = 0;
  for (const char* c = name; *c; ++c) {
    if (*c < '0' || *c > '9' || value > 100'000'000) return -1;
    value = value * 10 + (*c - '0');
  }
  return static_cast<pid_t>(value);
}

// The parent of `pid` from /proc/<pid>/stat ("pid (comm) state ppid ..."),
// or -1 when it is gone or unreadable.
pid_t parent_of(pid_t pid) {
  char path[48] = "/proc/";
  char digits[16];
  int length = 0;
  for (pid_t rest = pid; rest > 0; rest /= 10)
    digits[length++] = static_cast<char>('0' + rest % 10);
  size_t at = std::strlen(path);
  while (length > 0) path[at++] = digits[--length];
  std::memcpy(path + at, "/stat", sizeof "/stat");

  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[512];
  ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  // The command name may itself hold ')' or spaces: the last ')' ends it.
  const char* close_paren = nullptr;
  for (const char* c = text; *c; ++c) {
    if (*c == ')') close_paren = c;
  }
  if (!close_paren || close_paren[1] != ' ' || close_paren[2] == '\0' || close_paren[3] != ' ') {
    return -1;
  }
  long parent = 0;
  for (const char* c = close_paren + 4; *c >= '0' && *c <= '9'; ++c)
    parent = parent * 10 + (*c - '0');
  return static_cast<pid_t>(parent);
}

// Sends SIGKILL to every child of `self` and to the group each one leads.
void kill_children(pid_t self) {
  int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return;
  alignas(dirent64) char buffer[8192];
  for (;;) {
    long n = ::syscall(SYS_getdents64, proc, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      unsigned short record_length = 0;
      std::memcpy(&record_length, buffer + at + offsetof(dirent64, d_reclen), sizeof record_length);
      pid_t pid = parse_pid(buffer + at + offsetof(dirent64, d_name));
      at += record_length;
      if (pid <= 0 || parent_of(pid) != self) continue;
      ::kill(pid, SIGKILL);
      // A child that called setsid() leads a group that may hold processes
      // whose parents are still alive (so not yet reparented here).
      ::kill(-pid, SIGKILL);
    }
  }
  ::close(proc);
}

}  // namespace

void kill_and_reap_all_children() {
  const pid_t self = ::getpid();
  for (;;) {
    kill_children(self);
    int status = 0;
    pid_t reaped;
    do {
      reaped = ::waitpid(-1, &status, WNOHANG);
    } while (reaped > 0 || (reaped < 0 && errno == EINTR));
    if (reaped < 0) return;  // ECHILD: nothing is left below this process
    // Some children are still dying, or were reparented here after the scan
    // (their parent was one just killed). Not a blocking wait: it could wait
    // on a child the scan missed, which nobody has killed.
    timespec pause{0, 1'000'000};
    ::nanosleep(&pause, nullptr);
  }
}

}  // namespace sluice::sandbox
