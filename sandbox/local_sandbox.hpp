#pragma once
// The host's own file system and shell, through child processes.
//
// With isolation kBubblewrap (isolation.hpp), commands run in their own PID
// namespace over a read-only view of the system in which `hidden` paths are
// empty, and only the working directory is writable; the file tools keep to
// the same view (writes only inside the working directory, hidden paths
// refused). With kNone, paths are not confined (absolute paths and ".." reach
// the whole file system) and commands run as the server's user next to it.
// Either way a command sees only an allowlisted environment
// (environment.hpp), none of the server's open files, and never outlives its
// call. Needs /proc and /bin/sh.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "sandbox/environment.hpp"
#include "sandbox/isolation.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

using namespace std::chrono_literals;

struct LocalSandboxOptions {
  // Where relative paths and commands start. Empty: the server's working
  // directory; relative: against it. Must be an existing folder.
  std::filesystem::path cwd;
  // The agent's environment layer, over the allowlist (see snapshot_environment).
  EnvMap env;
  size_t output_cap_bytes = 1024 * 1024;  // per stream and call
  std::chrono::milliseconds default_timeout = 120s;
  uint64_t max_read_bytes = 64 * 1024 * 1024;  // larger files fail with too_large
  Isolation isolation = Isolation::kNone;
  // Bubblewrap only: the server's private files (database, .env, project).
  HiddenPaths hidden;
};

class LocalSandbox : public Sandbox {
 public:
  // Takes the environment snapshot now. Throws SandboxError when the working
  // directory is not an existing folder, or for an invalid env entry or option.
  explicit LocalSandbox(LocalSandboxOptions options = {});

  // The absolute, canonical working directory.
  const std::filesystem::path& cwd() const { return cwd_; }
  // The environment every command starts from.
  const EnvMap& environment() const { return env_; }

  std::string read(const std::string& path) override;
  std::string read_bytes(const std::string& path) override;
  void write(const std::string& path, std::string_view bytes) override;
  FileStat stat(const std::string& path) override;
  std::vector<DirEntry> readdir(const std::string& path) override;
  bool exists(const std::string& path) override;
  void mkdir(const std::string& path) override;
  void rm(const std::string& path, bool recursive) override;
  ExecResult exec(const ExecRequest& request) override;

 private:
  enum class Access { kRead, kWrite };
  // The absolute path; under isolation, throws SandboxError
  // (permission_denied) for what the isolated view does not allow.
  std::filesystem::path resolve(const std::string& path, Access access = Access::kRead) const;
  bool visible(const std::filesystem::path& canonical) const;

  std::filesystem::path cwd_;
  EnvMap env_;
  size_t output_cap_;
  std::chrono::milliseconds default_timeout_;
  uint64_t max_read_bytes_;
  Isolation isolation_;
  HiddenPaths hidden_;  // canonical
};

}  // namespace sluice::sandbox
