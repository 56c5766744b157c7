#pragma once
// Checking a tool call's arguments against the tool's own JSON schema, so the
// schema the model sees is the one rule, and reading them afterwards.
//
// The schemas use only what the built-in tools need: an object whose
// properties have "type" string, integer or boolean, integers with optional
// "minimum"/"maximum", and "required".
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::sandbox {

// The first way the arguments break the schema, as a sentence for the model
// ("\"path\" is required"), or "" when they fit. A null value counts as
// absent (some models send null for optional arguments); unknown names fail,
// so a misspelt argument is not silently ignored.
std::string argument_problem(const nlohmann::json& schema, const nlohmann::json& arguments);

// Readers for checked arguments: the fallback when the argument is absent or null.
std::string string_argument(const nlohmann::json& arguments, const char* name,
                            const std::string& fallback = {});
int64_t integer_argument(const nlohmann::json& arguments, const char* name, int64_t fallback);

}  // namespace sluice::sandbox
