#pragma once
// The agent events of PROTOCOL.md that a session emits for one submission.
// eventIndex is left out: each stream stamps its own, counting from 0.
#include <string>

#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace sluice::actors {

nlohmann::json agent_event(const std::string& type, const persistence::SubmissionRecord& record,
                           nlohmann::json fields = nlohmann::json::object());

}  // namespace sluice::actors
