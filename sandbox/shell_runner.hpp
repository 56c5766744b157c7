#pragma once
// Runs one command under /bin/sh -c in a supervised child (see supervisor.hpp)
// and collects its output. Blocking: for sandbox worker threads only.
#include <chrono>
#include <cstddef>
#include <string>

#include "sandbox/environment.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

struct ShellCommand {
  std::string command;
  std::string cwd;  // absolute, an existing folder
  EnvMap env;       // the whole environment the shell sees
  std::chrono::milliseconds timeout{0};
  size_t output_cap = 0;  // bytes kept per stream; the rest is read and dropped
};

// Throws SandboxError (invalid_argument) for a NUL byte in the command and
// (io_error) when no process could be started.
ExecResult run_shell_command(const ShellCommand& command);

}  // namespace sluice::sandbox
