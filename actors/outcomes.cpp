#include "actors/outcomes.hpp"

#include <nlohmann/json.hpp>

namespace sluice::actors {

using persistence::SubmissionRecord;
using persistence::SubmissionState;

PublicError aborted_error(const std::string& submission_id) {
  return make_error("submission_aborted", "The submission was aborted before it completed.", "",
                    {{"submissionId", submission_id}, {"reason", kReasonAbortRequested}});
}

PublicError failed_error(const std::string& submission_id, const std::string& reason,
                         const std::string& message, bool provider) {
  return make_error(provider ? "provider_error" : "submission_failed", message, "",
                    {{"submissionId", submission_id}, {"reason", reason}});
}

namespace {

Settlement settle(SubmissionRecord record, SubmissionState state, int64_t now_ms) {
  Settlement out;
  out.patch.id = record.id;
  out.patch.state = state;
  out.patch.settled_at_ms = now_ms;
  record.state = state;
  record.settled_at_ms = now_ms;
  out.record = std::move(record);
  return out;
}

}  // namespace

Settlement settle_completed(SubmissionRecord record, const std::string& result_json,
                            int64_t now_ms) {
  Settlement out = settle(std::move(record), SubmissionState::completed, now_ms);
  out.patch.result_json = result_json;
  out.record.result_json = result_json;
  return out;
}

Settlement settle_failed(SubmissionRecord record, const PublicError& error, int64_t now_ms) {
  Settlement out = settle(std::move(record), SubmissionState::failed, now_ms);
  const std::string error_json = error.to_json().dump();
  out.patch.error_json = error_json;
  out.record.error_json = error_json;
  return out;
}

Settlement settle_aborted(SubmissionRecord record, int64_t now_ms) {
  const std::string error_json = aborted_error(record.id).to_json().dump();
  Settlement out = settle(std::move(record), SubmissionState::aborted, now_ms);
  out.patch.abort_requested = true;
  out.patch.error_json = error_json;
  out.record.abort_requested = true;
  out.record.error_json = error_json;
  return out;
}

persistence::HistoryEntry entry_of(const SubmissionRecord& record, std::string type,
                                   std::string text, int64_t now_ms) {
  persistence::HistoryEntry entry;
  entry.sequence = record.sequence;
  entry.submission_id = record.id;
  entry.type = std::move(type);
  entry.timestamp_ms = now_ms;
  entry.text = std::move(text);
  return entry;
}

persistence::HistoryEntry interruption_entry(const SubmissionRecord& record, std::string text,
                                             int64_t now_ms) {
  return entry_of(record, "interruption", std::move(text), now_ms);
}

persistence::HistoryEntry tool_call_entry(const SubmissionRecord& record,
                                          const harness::ToolCall& call, int64_t now_ms) {
  persistence::HistoryEntry entry = entry_of(record, "tool_call", "", now_ms);
  entry.tool_name = call.name;
  entry.tool_call_id = call.id;
  entry.args_json = call.args_json;
  return entry;
}

persistence::HistoryEntry tool_result_entry(const SubmissionRecord& record,
                                            const harness::ToolCall& call,
                                            const harness::ToolOutcome& outcome, int64_t now_ms) {
  persistence::HistoryEntry entry = entry_of(record, "tool_result", "", now_ms);
  entry.tool_name = call.name;
  entry.tool_call_id = call.id;
  entry.result_json = nlohmann::json(outcome.content).dump();
  entry.is_error = outcome.is_error;
  return entry;
}

harness::ConversationItem conversation_item(const persistence::HistoryEntry& entry) {
  harness::ConversationItem item;
  item.type = entry.type;
  item.text = entry.text;
  item.tool_name = entry.tool_name;
  item.tool_call_id = entry.tool_call_id;
  item.args_json = entry.args_json;
  item.result_json = entry.result_json;
  item.is_error = entry.is_error;
  return item;
}

PublicError outcome_error(const persistence::SubmissionRecord& record) {
  PublicError error =
      record.error_json
          ? PublicError::from_json(nlohmann::json::parse(*record.error_json, nullptr, false))
          : make_error("submission_failed", "The submission failed.");
  if (record.state == persistence::SubmissionState::aborted) error.type = "submission_aborted";
  if (!error.meta.is_object()) error.meta = nlohmann::json::object();
  error.meta["submissionId"] = record.id;
  if (!error.meta.contains("reason")) error.meta["reason"] = persistence::to_string(record.state);
  return error;
}

}  // namespace sluice::actors
