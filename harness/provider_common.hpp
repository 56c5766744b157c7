#pragma once
// Small conversions both providers' request builders need.
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::harness {

// A tool result as the text the model reads: a JSON string is unwrapped, any
// other JSON (or non-JSON text) is passed as written.
std::string tool_result_text(const std::string& result_json);

// The note that tells the model its previous work was interrupted.
std::string interruption_note(const std::string& text);

}  // namespace sluice::harness
