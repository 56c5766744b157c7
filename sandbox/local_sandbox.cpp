// LocalSandbox: construction, path resolution and commands. The file
// operations are in local_sandbox_files.cpp.
#include "sandbox/local_sandbox.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "sandbox/host_error.hpp"
#include "sandbox/shell_runner.hpp"

namespace sluice::sandbox {
namespace fs = std::filesystem;
namespace {

bool within(const fs::path& path, const fs::path& folder) {
  const fs::path relative = path.lexically_relative(folder);
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

LocalSandbox::LocalSandbox(LocalSandboxOptions options)
    : env_(snapshot_environment(options.env)),
      output_cap_(options.output_cap_bytes),
      default_timeout_(options.default_timeout),
      max_read_bytes_(options.max_read_bytes),
      isolation_(options.isolation) {
  if (output_cap_ == 0 || default_timeout_.count() <= 0 || max_read_bytes_ == 0) {
    throw SandboxError(ErrorKind::kInvalidArgument,
                       "the output cap, default timeout and read limit must be positive");
  }
  std::error_code ec;
  fs::path start = options.cwd.empty() ? fs::current_path(ec) : fs::absolute(options.cwd, ec);
  if (!ec) cwd_ = fs::canonical(start, ec);
  if (ec) {
    throw SandboxError(ErrorKind::kNotFound, "the sandbox's working directory " + start.string() +
                                                 " cannot be used: " + ec.message());
  }
  if (!fs::is_directory(cwd_, ec)) {
    throw SandboxError(ErrorKind::kNotADirectory,
                       "the sandbox's working directory " + cwd_.string() + " is not a folder");
  }
  for (const auto& path : options.hidden) {
    // Canonical, as the working directory is, so that comparisons hold and
    // bwrap mounts over the real place.
    fs::path real = fs::weakly_canonical(fs::absolute(path, ec), ec);
    if (ec || real.empty()) {
      throw SandboxError(ErrorKind::kInvalidArgument,
                         "cannot hide " + path.string() + " from commands: " + ec.message());
    }
    hidden_.push_back(std::move(real));
  }
}

// What the isolated view shows (bubblewrap.cpp builds the same): a hidden
// path is empty, unless it encloses the working directory and the path lies
// inside the working directory; the working directory itself is never hidden.
bool LocalSandbox::visible(const fs::path& canonical) const {
  for (const auto& hidden : hidden_) {
    if (hidden == cwd_ || !within(canonical, hidden)) continue;
    if (within(cwd_, hidden) && within(canonical, cwd_) && !within(hidden, cwd_)) continue;
    return false;
  }
  return true;
}

fs::path LocalSandbox::resolve(const std::string& path, Access access) const {
  if (path.empty()) throw SandboxError(ErrorKind::kInvalidArgument, "the path is empty");
  if (path.find('\0') != std::string::npos) {
    throw SandboxError(ErrorKind::kInvalidArgument, "the path holds a NUL byte");
  }
  fs::path given(path);
  fs::path full = (given.is_absolute() ? given : cwd_ / given).lexically_normal();
  if (isolation_ == Isolation::kNone) return full;
  // Symbolic links resolved, so that a link in the working directory cannot
  // lead past the view.
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(full, ec);
  if (ec || !visible(real) || (access == Access::kWrite && !within(real, cwd_))) {
    throw SandboxError(ErrorKind::kPermissionDenied,
                       full.string() + " is outside what this isolated sandbox may " +
                           (access == Access::kWrite ? "write" : "read"));
  }
  return full;
}

ExecResult LocalSandbox::exec(const ExecRequest& request) {
  ShellCommand command;
  command.command = request.command;
  command.cwd = request.cwd.empty() ? cwd_.string() : resolve(request.cwd).string();
  struct stat info {};
  if (::stat(command.cwd.c_str(), &info) != 0) {
    throw host_error(errno, "run a command in", command.cwd);
  }
  if (!S_ISDIR(info.st_mode)) {
    throw SandboxError(ErrorKind::kNotADirectory,
                       "cannot run a command in " + command.cwd + ": it is not a folder");
  }
  command.env = env_;
  for (const auto& [name, value] : request.env) {
    check_variable(name, value);
    command.env[name] = value;
  }
  command.timeout = request.timeout.value_or(default_timeout_);
  if (command.timeout.count() <= 0) {
    throw SandboxError(ErrorKind::kInvalidArgument, "the timeout must be positive");
  }
  command.output_cap = output_cap_;
  command.isolation = isolation_;
  command.writable = cwd_;
  command.hidden = hidden_;
  return run_shell_command(command);
}

}  // namespace sluice::sandbox
