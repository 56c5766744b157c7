#pragma once
// One agents/NAME.toml file, parsed and checked into an AgentDefinition.
#include <filesystem>
#include <string>

#include "harness/toml.hpp"

#include "harness/agent_definition.hpp"

namespace sluice::harness {

// Throws ProjectError naming the file (as `file` spells it), the dotted key and
// the problem; syntax errors give the line and column instead of a key.
AgentDefinition load_agent_file(const std::filesystem::path& file, const std::string& name);

// Shared with the workflow files (workflows/workflow_file.hpp).
// The file parsed; throws ProjectError with the line and column of a syntax error.
toml::table parse_toml_file(const std::filesystem::path& file);
struct Transports {
  bool http = false;
  bool websocket = false;
};
// expose = ["http", "websocket"]; throws TomlValueError.
Transports parse_expose(const toml::node& value);

}  // namespace sluice::harness
