#pragma once
// The public JSON shapes of stored records (PROTOCOL.md "Pinned details").
#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace sluice::net {

nlohmann::json submission_json(const persistence::SubmissionRecord& record);
nlohmann::json history_entry_json(const persistence::HistoryEntry& entry);
// The 202 body of a dispatch; an idempotent replay rebuilds the same bytes.
nlohmann::json dispatch_receipt_json(const persistence::SubmissionRecord& record);
// The stored result as a JSON value (null when none).
nlohmann::json result_value(const persistence::SubmissionRecord& record);

}  // namespace sluice::net
