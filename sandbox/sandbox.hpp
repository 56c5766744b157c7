#pragma once
// What an agent's tools may do on a machine: files and shell commands.
//
// Every call is synchronous and blocking (file I/O, child processes, HTTP to a
// remote sandbox). It is only ever called from a dedicated sandbox worker
// thread, never from a CAF actor or a Beast io thread, which must not block.
// Implementations are safe to call from several worker threads at once.
//
// Paths: relative paths resolve against the sandbox's working directory;
// absolute paths are taken as they are. Failures throw SandboxError.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::sandbox {

// What went wrong, so callers (and the remote protocol) can tell cases apart.
enum class ErrorKind {
  kNotFound,          // the path (or a folder on the way) does not exist
  kAlreadyExists,     // e.g. mkdir over a file
  kNotADirectory,     // readdir of a file, a file used as a folder
  kIsADirectory,      // read or write of a folder
  kNotEmpty,          // rm of a non-empty folder without recursive
  kPermissionDenied,  // the host refused access
  kInvalidArgument,   // an empty path, a NUL byte in a command, a bad timeout
  kTooLarge,          // a file over the read limit
  kNoSandbox,         // the agent has no sandbox at all
  kUnavailable,       // a remote sandbox cannot be reached or refused the call
  kIo,                // any other host failure
};

// Stable lower-case names ("not_found", ...), used on the wire.
std::string_view error_kind_name(ErrorKind kind);
// The kind named, or nullopt for a name this version does not know.
std::optional<ErrorKind> error_kind_from_name(std::string_view name);

class SandboxError : public std::runtime_error {
 public:
  SandboxError(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

struct FileStat {
  uint64_t size = 0;  // bytes (for a folder, what the host reports)
  bool is_dir = false;
  std::chrono::system_clock::time_point mtime;  // last modification
};

struct DirEntry {
  std::string name;  // the entry's name only, no folder
  bool is_dir = false;
};

struct ExecRequest {
  std::string command;  // run by /bin/sh -c
  std::string cwd;      // empty: the sandbox's working directory; relative: against it
  // Set on top of the sandbox's environment for this call only, as given (an
  // empty value sets an empty variable).
  std::map<std::string, std::string> env;
  std::optional<std::chrono::milliseconds> timeout;  // nullopt: the sandbox's default
};

struct ExecResult {
  int exit_code = 0;        // the shell's; 128+N when killed by signal N; 124 on timeout
  std::string stdout_text;  // valid UTF-8 (invalid bytes become U+FFFD)
  std::string stderr_text;  // same; a timeout appends a note saying so
  bool timed_out = false;
  bool truncated = false;  // a stream passed the output cap; a note in it says so
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;

  // The file as text: valid UTF-8, invalid bytes replaced by U+FFFD.
  virtual std::string read(const std::string& path) = 0;
  // The file's exact bytes.
  virtual std::string read_bytes(const std::string& path) = 0;
  // Creates or replaces the file with these bytes; missing parent folders are
  // created.
  virtual void write(const std::string& path, std::string_view bytes) = 0;
  // Follows symbolic links.
  virtual FileStat stat(const std::string& path) = 0;
  // The folder's entries sorted by name, without "." and "..".
  virtual std::vector<DirEntry> readdir(const std::string& path) = 0;
  // False when the path (or a folder on the way) does not exist.
  virtual bool exists(const std::string& path) = 0;
  // Creates the folder and missing parents; an existing folder is fine.
  virtual void mkdir(const std::string& path) = 0;
  // Removes a file, a symbolic link or an empty folder; with recursive, a
  // folder and everything in it.
  virtual void rm(const std::string& path, bool recursive) = 0;
  // Runs the command to completion (or its timeout). A non-zero exit is a
  // result, not an error; SandboxError means it could not be run.
  virtual ExecResult exec(const ExecRequest& request) = 0;
};

}  // namespace sluice::sandbox
