#pragma once
// The agent events of the protocol that a session emits for one submission,
// in the shapes of Flue's 0.10 server (its client validates them): every field
// that server always sends is here, with the same name and JSON type; our own
// additions ride beside them. eventIndex is left out: each stream stamps its
// own, counting from 0.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/model.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

// A submission is one operation of its session. Its id is derived from the
// submission id, so every node streaming it agrees without storing it.
std::string operation_id(const persistence::SubmissionRecord& record);

// The fields of the `operation` event that ends a settled submission's operation.
nlohmann::json operation_outcome(const persistence::SubmissionRecord& record);

nlohmann::json agent_event(const std::string& type, const persistence::SubmissionRecord& record,
                           nlohmann::json fields = nlohmann::json::object());

// Token usage in Flue's shape (input, output, cache counts, totals, cost);
// Sluice counts no cache tokens and no cost, so those are 0.
nlohmann::json prompt_usage(int64_t input_tokens, int64_t output_tokens);

// One model turn's reply as a normalized assistant message: its text, then
// its tool calls.
nlohmann::json assistant_message(const std::string& text,
                                 const std::vector<harness::ToolCall>& tool_calls);

// The messages a submission has added to its conversation so far (its user
// input, its assistant turns with their tool calls, its tool results), read
// from the tail of the session's history; what `agent_end` carries.
nlohmann::json submission_messages(const std::vector<persistence::HistoryEntry>& history,
                                   int64_t sequence);

}  // namespace sluice::actors
