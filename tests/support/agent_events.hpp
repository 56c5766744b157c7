#pragma once
// Reading agent events as a client does: the events of one type, and the
// milestones of a conversation in order.
#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::test {

inline std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& events,
                                           const std::string& type) {
  std::vector<nlohmann::json> out;
  std::copy_if(events.begin(), events.end(), std::back_inserter(out),
               [&](const nlohmann::json& event) { return event["type"] == type; });
  return out;
}

// The event types a client of a tool conversation relies on, in order, with
// runs of text_delta shown once.
inline std::vector<std::string> milestones(const std::vector<nlohmann::json>& events) {
  static const std::vector<std::string> kept = {"agent_start", "turn_start", "text_delta", "turn",
                                                "tool_start",  "tool_call",  "operation",  "idle"};
  std::vector<std::string> out;
  for (const auto& event : events) {
    const std::string type = event["type"];
    if (std::find(kept.begin(), kept.end(), type) == kept.end()) continue;
    if (type == "text_delta" && !out.empty() && out.back() == "text_delta") continue;
    out.push_back(type);
  }
  return out;
}

}  // namespace sluice::test
