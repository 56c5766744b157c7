#pragma once
// A project directory: agents/NAME.toml files. Loading validates every file and
// fails with a message naming the file, the key and the problem.
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/agent_definition.hpp"

namespace sluice::harness {

struct ProjectError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Project {
  std::filesystem::path root;
  std::map<std::string, AgentDefinition> agents;  // by name

  const AgentDefinition* find_agent(const std::string& name) const;
};

// The file stem rule for agent names: [A-Za-z0-9][A-Za-z0-9_-]* (so never ':').
bool is_valid_agent_name(std::string_view name);

// Throws ProjectError. A project without an agents/ folder has no agents.
Project load_project(const std::filesystem::path& root);

// Adds an agent built in C++ after checking it as a file would be (name,
// model and options); its name must not be taken by a file. Throws ProjectError.
void add_code_agent(Project& project, AgentDefinition agent);

}  // namespace sluice::harness
