#pragma once
// The agent events of PROTOCOL.md that a session emits for one submission.
// eventIndex is left out: each stream stamps its own, counting from 0.
#include <string>

#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace sluice::actors {

// A submission is one operation of its session. Its id is derived from the
// submission id, so every node streaming it agrees without storing it.
std::string operation_id(const persistence::SubmissionRecord& record);

// The fields of the `operation` event that ends a settled submission's operation.
nlohmann::json operation_outcome(const persistence::SubmissionRecord& record);

nlohmann::json agent_event(const std::string& type, const persistence::SubmissionRecord& record,
                           nlohmann::json fields = nlohmann::json::object());

}  // namespace sluice::actors
