#include "harness/provider_common.hpp"

namespace sluice::harness {

std::string tool_result_text(const std::string& result_json) {
  const auto parsed = nlohmann::json::parse(result_json, nullptr, false);
  if (parsed.is_string()) return parsed.get<std::string>();
  return result_json;
}

std::string interruption_note(const std::string& text) {
  return "[Note from the system: " + text + "]";
}

}  // namespace sluice::harness
