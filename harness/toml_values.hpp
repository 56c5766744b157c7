#pragma once
// Reading values out of parsed TOML with errors that name the value's dotted
// key, so a ProjectError can point at exactly what to change.
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>
#include "harness/toml.hpp"

namespace sluice::harness {

struct TomlValueError : std::runtime_error {
  TomlValueError(std::string key, std::string problem)
      : std::runtime_error(key + ": " + problem),
        key(std::move(key)),
        problem(std::move(problem)) {}

  std::string key;  // dotted, e.g. "model_options.delay_ms" or "expose[1]"
  std::string problem;
};

// As a person would say it: "integer", "float", "array", "date-time", ...
std::string toml_type_name(const toml::node& node);

// Tables become objects, arrays arrays; dates, times and non-finite floats have
// no JSON form and throw TomlValueError naming `key` (the node's own key).
nlohmann::json toml_to_json(const toml::node& node, const std::string& key);

}  // namespace sluice::harness
