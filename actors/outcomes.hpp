#pragma once
// How a submission ends: the patch that settles it durably, the record as it
// reads afterwards, and the public errors of failed and aborted submissions.
#include <string>

#include "core/public_error.hpp"
#include "harness/model.hpp"
#include "harness/tool_box.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

// meta.reason values
inline constexpr const char* kReasonAbortRequested = "abort_requested";
inline constexpr const char* kReasonExhaustedRetryBudget = "exhausted_retry_budget";
inline constexpr const char* kReasonExceededTimeout = "exceeded_timeout";
inline constexpr const char* kReasonProviderError = "provider_error";

PublicError aborted_error(const std::string& submission_id);
// The public error a client gets for a failed or aborted record (type
// submission_aborted for an abort; meta.submissionId and meta.reason set).
PublicError outcome_error(const persistence::SubmissionRecord& record);
// type submission_failed, or provider_error when the model provider failed.
PublicError failed_error(const std::string& submission_id, const std::string& reason,
                         const std::string& message, bool provider);

// A settled submission: the patch to store and, in `record`, the record as it
// reads once the patch is committed.
struct Settlement {
  persistence::SubmissionPatch patch;
  persistence::SubmissionRecord record;
};

Settlement settle_completed(persistence::SubmissionRecord record, const std::string& result_json,
                            int64_t now_ms);
Settlement settle_failed(persistence::SubmissionRecord record, const PublicError& error,
                         int64_t now_ms);
Settlement settle_aborted(persistence::SubmissionRecord record, int64_t now_ms);

// A history entry written by `record` (user, assistant, interruption...).
persistence::HistoryEntry entry_of(const persistence::SubmissionRecord& record, std::string type,
                                   std::string text, int64_t now_ms);
// A visible marker in the history, e.g. for an attempt budget that ran out.
persistence::HistoryEntry interruption_entry(const persistence::SubmissionRecord& record,
                                             std::string text, int64_t now_ms);
// The entries of a model turn that asked for tools, and of a tool's result.
persistence::HistoryEntry tool_call_entry(const persistence::SubmissionRecord& record,
                                          const harness::ToolCall& call, int64_t now_ms);
persistence::HistoryEntry tool_result_entry(const persistence::SubmissionRecord& record,
                                            const harness::ToolCall& call,
                                            const harness::ToolOutcome& outcome, int64_t now_ms);
// How a history entry reads to a model.
harness::ConversationItem conversation_item(const persistence::HistoryEntry& entry);

}  // namespace sluice::actors
