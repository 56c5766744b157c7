#pragma once
// Context compaction: when a session's conversation outgrows the model's
// context window, its oldest part is summarised by the same model and the
// summary stands in for it from then on. The history itself keeps every
// entry; a "compaction" entry records the summary and the last position it
// covers, and only the conversation given to the model changes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/model.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

// What the model is given for history[0, end): the latest summary (as a user
// message) and the entries after the position it covers, compaction entries
// left out.
std::vector<harness::ConversationItem> model_conversation(
    const std::vector<persistence::HistoryEntry>& history, size_t end);

// Where the part to summarise ends (an index into history), or nullopt when
// nothing can be summarised. Prefers everything before the running
// submission; if that submission alone overflows, everything before its last
// tool round. A cut never separates a tool call from its result.
std::optional<size_t> compaction_cut(const std::vector<persistence::HistoryEntry>& history,
                                     const std::string& running_submission_id);

// A rough token count of a conversation (a token is about four characters of
// English), reported in compaction events; nothing is decided by it.
int64_t estimated_tokens(const std::vector<harness::ConversationItem>& conversation);

// The request that asks the model for a summary of history[0, cut).
harness::TurnRequest summary_request(const std::vector<persistence::HistoryEntry>& history,
                                     size_t cut);

// The durable record of a summary of everything up to `through` (a position).
persistence::HistoryEntry compaction_entry(const persistence::SubmissionRecord& record,
                                           std::string summary, int64_t through, int64_t now_ms);

// The position a compaction entry covers up to.
int64_t compacted_through(const persistence::HistoryEntry& compaction);

}  // namespace sluice::actors
