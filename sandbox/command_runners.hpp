#pragma once
// The two ways run_shell_command runs a command (shell_runner.hpp): under
// bubblewrap (isolated_runner.cpp) or under the forked supervisor
// (shell_runner.cpp). Blocking: sandbox worker threads only.
#include "sandbox/shell_runner.hpp"

namespace sluice::sandbox {

ExecResult run_isolated_command(const ShellCommand& command);
ExecResult run_supervised_command(const ShellCommand& command);

}  // namespace sluice::sandbox
