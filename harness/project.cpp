#include "harness/project.hpp"

#include <algorithm>
#include <system_error>
#include <vector>

#include "harness/agent_file.hpp"
#include "harness/model_runtime.hpp"

namespace sluice::harness {
namespace {

namespace fs = std::filesystem;

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Hidden files (editor locks and swap files, ".#echo.toml") are not agents.
std::vector<fs::path> agent_files(const fs::path& folder) {
  std::error_code error;
  fs::directory_iterator entries(folder, error);
  if (error) throw ProjectError(folder.string() + ": cannot list the folder: " + error.message());
  std::vector<fs::path> files;
  for (const auto& entry : entries) {
    const std::string filename = entry.path().filename().string();
    if (filename.starts_with('.') || entry.path().extension() != ".toml") continue;
    if (!entry.is_regular_file(error)) {
      throw ProjectError(entry.path().string() + ": expected a regular file");
    }
    files.push_back(entry.path());
  }
  // Sorted, so the same broken project always reports the same error first.
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

bool is_valid_agent_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_name_start(c) || c == '_' || c == '-'; });
}

const AgentDefinition* Project::find_agent(const std::string& name) const {
  const auto found = agents.find(name);
  return found == agents.end() ? nullptr : &found->second;
}

Project load_project(const fs::path& root) {
  std::error_code error;
  const fs::file_status root_status = fs::status(root, error);
  if (!fs::exists(root_status)) {
    throw ProjectError("project directory '" + root.string() + "' does not exist");
  }
  if (!fs::is_directory(root_status)) {
    throw ProjectError("project directory '" + root.string() + "' is not a directory");
  }
  Project project;
  project.root = root;
  const fs::path folder = root / "agents";
  const fs::file_status folder_status = fs::status(folder, error);
  if (!fs::exists(folder_status)) return project;
  if (!fs::is_directory(folder_status)) {
    throw ProjectError(folder.string() + ": expected a folder of agent files (agents/NAME.toml)");
  }
  for (const fs::path& file : agent_files(folder)) {
    const std::string name = file.stem().string();
    if (!is_valid_agent_name(name)) {
      throw ProjectError(file.string() + ": '" + name +
                         "' is not a valid agent name: use letters, digits, '_' and '-', "
                         "starting with a letter or digit");
    }
    project.agents.emplace(name, load_agent_file(file, name));
  }
  return project;
}

void add_code_agent(Project& project, AgentDefinition agent) {
  const std::string where = "agent '" + agent.name + "' (defined in C++)";
  if (!is_valid_agent_name(agent.name)) {
    throw ProjectError(where + ": not a valid agent name: use letters, digits, '_' and '-', "
                               "starting with a letter or digit");
  }
  if (const AgentDefinition* existing = project.find_agent(agent.name)) {
    throw ProjectError(where + ": the name is taken by " + existing->source_file);
  }
  try {
    validate_model(agent.model, agent.model_options);
  } catch (const ModelConfigError& error) {
    throw ProjectError(where + ": " + (error.key().empty() ? "model" : error.key()) + ": " +
                       (error.key().empty() ? std::string(error.what()) : error.problem()));
  }
  agent.source_file = where;
  project.agents.emplace(agent.name, std::move(agent));
}

}  // namespace sluice::harness
