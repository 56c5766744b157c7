#include "sandbox/bubblewrap.hpp"

#include <system_error>

namespace sluice::sandbox {
namespace fs = std::filesystem;
namespace {

bool strictly_inside(const fs::path& path, const fs::path& folder) {
  const fs::path relative = path.lexically_relative(folder);
  return !relative.empty() && relative != "." && *relative.begin() != "..";
}

// An empty tmpfs over a folder, an empty read-only file over anything else;
// bwrap would fail on a destination that does not exist, so those are skipped
// (nothing there to read).
void hide(std::vector<std::string>& argv, const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return;
  if (fs::is_directory(status)) {
    argv.insert(argv.end(), {"--tmpfs", path.string()});
  } else {
    argv.insert(argv.end(), {"--ro-bind", "/dev/null", path.string()});
  }
}

}  // namespace

std::vector<std::string> bubblewrap_argv(const BubblewrapPlan& plan) {
  std::vector<std::string> argv{
      plan.bwrap,
      // The command's PID 1 is bwrap's init: when the shell ends, init ends
      // and the kernel kills whatever is left; when the bwrap process we
      // started is killed (the timeout), init dies with it and so does
      // everything else. Nothing inside can see or signal a process outside.
      "--die-with-parent", "--unshare-pid", "--unshare-ipc",
      // No controlling terminal to push input into (TIOCSTI).
      "--new-session",
      // Root inside keeps uid 0 but no capability: it cannot mount, unmount,
      // ptrace or read past file permissions.
      "--cap-drop", "ALL",
      // The system read-only, fresh /dev and /proc (this namespace's
      // processes only), a private /tmp.
      "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"};
  // Mounts stack in order: hide what encloses the working directory, then
  // bind it writable (visible again even inside a hidden folder), then hide
  // what lies inside it.
  for (const auto& path : plan.hidden) {
    if (!strictly_inside(path, plan.writable) && path != plan.writable) hide(argv, path);
  }
  argv.insert(argv.end(), {"--bind", plan.writable.string(), plan.writable.string()});
  for (const auto& path : plan.hidden) {
    if (strictly_inside(path, plan.writable)) hide(argv, path);
  }
  argv.insert(argv.end(), {"--chdir", plan.start_in.string(), "--"});
  argv.insert(argv.end(), plan.command.begin(), plan.command.end());
  return argv;
}

}  // namespace sluice::sandbox
