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

LocalSandbox::LocalSandbox(LocalSandboxOptions options)
    : env_(snapshot_environment(options.env)),
      output_cap_(options.output_cap_bytes),
      default_timeout_(options.default_timeout),
      max_read_bytes_(options.max_read_bytes) {
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
}

fs::path LocalSandbox::resolve(const std::string& path) const {
  if (path.empty()) throw SandboxError(ErrorKind::kInvalidArgument, "the path is empty");
  if (path.find('\0') != std::string::npos) {
    throw SandboxError(ErrorKind::kInvalidArgument, "the path holds a NUL byte");
  }
  fs::path given(path);
  return (given.is_absolute() ? given : cwd_ / given).lexically_normal();
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
  return run_shell_command(command);
}

}  // namespace sluice::sandbox
