#include "net/record_json.hpp"

#include "actors/compaction.hpp"
#include "core/clock.hpp"
#include "core/public_error.hpp"
#include "core/stored_json.hpp"

namespace sluice::net {
namespace {

nlohmann::json time_or_null(int64_t ms) {
  return ms > 0 ? nlohmann::json(iso8601(ms)) : nlohmann::json(nullptr);
}

nlohmann::json parse_or_omit(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json::parse(text, nullptr, false);
}

}  // namespace

nlohmann::json result_value(const persistence::SubmissionRecord& record) {
  return parsed_or_null(record.result_json);
}

nlohmann::json submission_json(const persistence::SubmissionRecord& record) {
  nlohmann::json out = {
      {"submissionId", record.id},
      {"kind", persistence::to_string(record.kind)},
      {"session", record.key.session},
      {"sequence", record.sequence},
      {"state", persistence::to_string(record.state)},
      {"inputApplied", record.input_applied},
      {"attempts", record.attempts},
      {"acceptedAt", iso8601(record.accepted_at_ms)},
      {"startedAt", time_or_null(record.started_at_ms)},
      {"settledAt", time_or_null(record.settled_at_ms)},
      {"result", result_value(record)},
      {"error", parsed_or_null(record.error_json)},
      {"usage", parsed_or_null(record.usage_json)},
  };
  if (!record.dispatch_id.empty()) out["dispatchId"] = record.dispatch_id;
  if (record.abort_requested) out["abortRequested"] = true;
  return out;
}

nlohmann::json history_entry_json(const persistence::HistoryEntry& entry) {
  nlohmann::json out = {
      {"id", entry.position},
      {"sequence", entry.sequence},
      {"type", entry.type},
      {"submissionId", entry.submission_id},
      {"timestamp", iso8601(entry.timestamp_ms)},
  };
  if (entry.type == "user" || entry.type == "assistant" || entry.type == "interruption" ||
      entry.type == "compaction") {
    out["text"] = entry.text;
  }
  if (entry.type == "compaction") out["compactedThrough"] = actors::compacted_through(entry);
  if (entry.type == "tool_call" || entry.type == "tool_result") {
    out["toolName"] = entry.tool_name;
    out["toolCallId"] = entry.tool_call_id;
  }
  if (entry.type == "tool_call") out["args"] = parse_or_omit(entry.args_json);
  if (entry.type == "tool_result") {
    out["result"] = parse_or_omit(entry.result_json);
    out["isError"] = entry.is_error;
  }
  if (entry.status != persistence::EntryStatus::complete) {
    out["status"] = persistence::to_string(entry.status);
  }
  return out;
}

nlohmann::json dispatch_receipt_json(const persistence::SubmissionRecord& record) {
  return {{"dispatchId", record.dispatch_id},
          {"acceptedAt", iso8601(record.accepted_at_ms)},
          {"submissionId", record.id},
          {"sequence", record.sequence}};
}

}  // namespace sluice::net
