#pragma once
// Runs one command under /bin/sh -c, isolated by bubblewrap (isolation.hpp)
// or in a supervised child (supervisor.hpp), and collects its output. Every
// process the command starts is gone when this returns, and this returns by
// the timeout (plus a moment) whatever the command does with its pipes.
// Blocking: for sandbox worker threads only.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

#include "sandbox/environment.hpp"
#include "sandbox/isolation.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

struct ShellCommand {
  std::string command;
  std::string cwd;  // absolute, an existing folder
  EnvMap env;       // the whole environment the shell sees
  std::chrono::milliseconds timeout{0};
  size_t output_cap = 0;  // bytes kept per stream; the rest is read and dropped
  Isolation isolation = Isolation::kNone;
  // Bubblewrap only: the one folder the command may write (the sandbox's
  // working directory), and what it must not see.
  std::filesystem::path writable;
  HiddenPaths hidden;
};

// Throws SandboxError (invalid_argument) for a NUL byte in the command,
// (io_error) when no process could be started or the supervisor was killed,
// and (unavailable) when bubblewrap is asked for and cannot run.
ExecResult run_shell_command(const ShellCommand& command);

}  // namespace sluice::sandbox
