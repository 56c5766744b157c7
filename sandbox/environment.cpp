#include "sandbox/environment.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

void check_variable(const std::string& name, const std::string& value) {
  if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
    throw SandboxError(ErrorKind::kInvalidArgument,
                       "invalid environment variable name \"" + name + "\"");
  }
  if (value.find('\0') != std::string::npos) {
    throw SandboxError(ErrorKind::kInvalidArgument,
                       "the value of environment variable " + name + " holds a NUL byte");
  }
}

EnvMap snapshot_environment(const EnvMap& layer) {
  EnvMap env;
  for (std::string_view name : kInheritedVariables) {
    std::string key(name);
    if (const char* value = std::getenv(key.c_str())) env[key] = value;
  }
  for (const auto& [name, value] : layer) {
    check_variable(name, value);
    if (value.empty()) {
      env.erase(name);
    } else if (value.size() > 1 && value[0] == '$') {
      const char* referenced = std::getenv(value.c_str() + 1);
      if (referenced) {
        env[name] = referenced;
      } else {
        // Left out rather than set empty: a tool that sees no variable says
        // so more clearly than one that sees an empty credential.
        spdlog::warn("sandbox environment: {} refers to {}, which the server's environment lacks",
                     name, value);
        env.erase(name);
      }
    } else {
      env[name] = value;
    }
  }
  return env;
}

}  // namespace sluice::sandbox
