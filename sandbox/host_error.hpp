#pragma once
// Host failures (errno) as SandboxErrors a model can act on.
#include <string>
#include <string_view>

#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

// "cannot <action> <path>: <strerror>", with the kind that fits the errno.
SandboxError host_error(int error_number, std::string_view action, const std::string& path);

}  // namespace sluice::sandbox
