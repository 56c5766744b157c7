#include "actors/recovery.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/outcomes.hpp"

namespace sluice::actors {

using persistence::EntryStatus;
using persistence::HistoryEntry;
using persistence::SubmissionRecord;
using persistence::SubmissionState;

namespace {

std::vector<const HistoryEntry*> entries_of(const persistence::ClaimResult& claim,
                                            const std::string& submission_id) {
  std::vector<const HistoryEntry*> out;
  for (const auto& entry : claim.running_entries) {
    if (entry.submission_id == submission_id) out.push_back(&entry);
  }
  return out;
}

const HistoryEntry* completed_response(const std::vector<const HistoryEntry*>& entries) {
  const HistoryEntry* last = entries.empty() ? nullptr : entries.back();
  if (last && last->type == "assistant" && last->status == EntryStatus::complete) return last;
  return nullptr;
}

void add_settlement(RecoveryPlan& plan, Settlement settlement) {
  plan.mutation.patches.push_back(std::move(settlement.patch));
  plan.settled.push_back(std::move(settlement.record));
}

void fail_with_marker(RecoveryPlan& plan, const SubmissionRecord& record, const char* reason,
                      const std::string& message, int64_t now_ms) {
  plan.mutation.append.push_back(interruption_entry(record, message, now_ms));
  add_settlement(plan,
                 settle_failed(record, failed_error(record.id, reason, message, false), now_ms));
}

void recover_running(RecoveryPlan& plan, const persistence::ClaimResult& claim,
                     const SubmissionRecord& record, const SessionLimits& limits, int64_t now_ms) {
  const auto entries = entries_of(claim, record.id);
  if (record.abort_requested) {
    add_settlement(plan, settle_aborted(record, now_ms));
    return;
  }
  if (const HistoryEntry* response = completed_response(entries)) {
    add_settlement(plan, settle_completed(record, nlohmann::json(response->text).dump(), now_ms));
    return;
  }
  if (record.released) {
    plan.queue.push_back({record, false});
    return;
  }
  if (!record.input_applied) {
    plan.queue.push_back({record, true});
    return;
  }
  if (record.started_at_ms > 0 && now_ms - record.started_at_ms >= limits.submission_timeout_ms) {
    fail_with_marker(plan, record, kReasonExceededTimeout,
                     "Stopped: the submission exceeded its time limit.", now_ms);
    return;
  }
  if (record.attempts >= limits.max_attempts) {
    fail_with_marker(plan, record, kReasonExhaustedRetryBudget,
                     "Stopped: the submission was interrupted on every attempt it was allowed.",
                     now_ms);
    return;
  }
  bool had_partial = false;
  for (const HistoryEntry* entry : entries) {
    if (entry->type == "assistant" && entry->status == EntryStatus::partial) {
      plan.mutation.entry_patches.push_back({entry->position, EntryStatus::interrupted});
      had_partial = true;
    }
  }
  if (had_partial) {
    plan.mutation.append.push_back(interruption_entry(
        record, "The previous reply was cut off by an interruption; continuing.", now_ms));
  }
  // A tool call without a result was interrupted while it ran: it is never run
  // again (it may have taken effect), and providers refuse a call without a
  // result, so it gets one that says the outcome is unknown.
  for (const HistoryEntry* call : entries) {
    if (call->type != "tool_call") continue;
    const bool resolved = std::any_of(entries.begin(), entries.end(), [&](const HistoryEntry* e) {
      return e->type == "tool_result" && e->tool_call_id == call->tool_call_id;
    });
    if (resolved) continue;
    harness::ToolCall interrupted{call->tool_call_id, call->tool_name, call->args_json};
    plan.mutation.append.push_back(tool_result_entry(
        record, interrupted,
        {"The server stopped while this tool call ran; it may or may not have taken effect. "
         "Check before repeating it.",
         true},
        now_ms));
  }
  plan.queue.push_back({record, true});
}

}  // namespace

RecoveryPlan plan_recovery(const persistence::ClaimResult& claim, const SessionLimits& limits,
                           int64_t now_ms) {
  RecoveryPlan plan;
  for (const SubmissionRecord& record : claim.unsettled) {
    if (record.state == SubmissionState::running) {
      recover_running(plan, claim, record, limits, now_ms);
    } else if (record.abort_requested) {
      add_settlement(plan, settle_aborted(record, now_ms));
    } else {
      plan.queue.push_back({record, true});
    }
  }
  return plan;
}

}  // namespace sluice::actors
