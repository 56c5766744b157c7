#pragma once
// One agents/NAME.toml file, parsed and checked into an AgentDefinition.
#include <filesystem>
#include <string>

#include "harness/agent_definition.hpp"

namespace sluice::harness {

// Throws ProjectError naming the file (as `file` spells it), the dotted key and
// the problem; syntax errors give the line and column instead of a key.
AgentDefinition load_agent_file(const std::filesystem::path& file, const std::string& name);

}  // namespace sluice::harness
