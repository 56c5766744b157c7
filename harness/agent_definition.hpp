#pragma once
// What an agent is: a model, instructions and the transports it is exposed on.
// Loaded from agents/NAME.toml (see project.hpp) or built in C++.
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::harness {

struct AgentDefinition {
  std::string name;
  std::string model;  // "provider/model", e.g. "sluice/echo"
  std::string instructions;
  bool expose_http = false;
  bool expose_websocket = false;
  // [model_options] as given (e.g. {"delay_ms": 50}); models validate their own keys.
  nlohmann::json model_options = nlohmann::json::object();
  std::string source_file;  // where it was defined, for error messages ("" when built in code)
};

}  // namespace sluice::harness
