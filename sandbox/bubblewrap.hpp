#pragma once
// The bwrap command line of one isolated command.
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/isolation.hpp"

namespace sluice::sandbox {

struct BubblewrapPlan {
  std::string bwrap;                 // the program
  std::filesystem::path writable;    // the sandbox's working directory, bound read-write
  std::filesystem::path start_in;    // where the command starts (usually `writable`)
  HiddenPaths hidden;                // absolute
  std::vector<std::string> command;  // e.g. {"/bin/sh", "-c", text}
};

// argv for execve, program first.
std::vector<std::string> bubblewrap_argv(const BubblewrapPlan& plan);

}  // namespace sluice::sandbox
