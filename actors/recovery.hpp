#pragma once
// PROTOCOL.md's recovery rules, as a pure decision over what a claim found in
// storage: which unsettled submissions settle now, which run again and how.
// Never re-runs committed work: a recorded response settles, a recorded tool
// result stays.
#include <cstdint>
#include <deque>
#include <vector>

#include "actors/session_context.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

struct QueuedSubmission {
  persistence::SubmissionRecord record;
  // False when resuming work released at a committed turn boundary: a graceful
  // handover does not consume an attempt.
  bool consumes_attempt = true;
};

struct RecoveryPlan {
  persistence::SessionMutation mutation;               // settlements and history markers
  std::vector<persistence::SubmissionRecord> settled;  // as they read after the mutation
  std::deque<QueuedSubmission> queue;                  // what runs next, in sequence order
};

RecoveryPlan plan_recovery(const persistence::ClaimResult& claim, const SessionLimits& limits,
                           int64_t now_ms);

}  // namespace sluice::actors
