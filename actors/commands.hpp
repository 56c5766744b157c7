#pragma once
// What the front ends ask of a session, and how the session answers. Free of
// CAF types: front ends hold only these and a SessionGateway.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "core/session_key.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

// Receives what happens to one input. The session actor calls it from a CAF
// worker thread; implementations must not block (they post to their own
// executor). Calls come in this order: on_admitted or on_rejected; then, for
// observers that want them, on_event*; then on_settled.
class SubmissionObserver {
 public:
  virtual ~SubmissionObserver() = default;
  virtual void on_admitted(const persistence::SubmissionRecord& record, bool replayed) = 0;
  virtual void on_rejected(const PublicError& error) = 0;
  virtual void on_event(const nlohmann::json& event) = 0;  // no eventIndex: the stream stamps it
  virtual void on_settled(const persistence::SubmissionRecord& record) = 0;
  // The session drops an observer after on_admitted unless it wants the outcome.
  virtual bool wants_outcome() const = 0;
  virtual bool wants_events() const = 0;
};

struct SubmitCommand {
  SessionKey key;
  persistence::SubmissionKind kind = persistence::SubmissionKind::direct;
  std::string input_text;
  std::optional<persistence::IdempotencyClaim> idempotency;
  int64_t received_at_ns = 0;  // steady clock, for the admission latency metric
  bool forwarded = false;      // came from another node: handled here, never forwarded again
  int64_t route_deadline_ms = 0;  // set when first sent towards another node; 0 until then
  std::shared_ptr<SubmissionObserver> observer;
};

class AbortObserver {
 public:
  virtual ~AbortObserver() = default;
  virtual void on_aborted(const std::vector<std::string>& submission_ids) = 0;
  virtual void on_failed(const PublicError& error) = 0;
};

struct AbortCommand {
  SessionKey key;
  std::optional<std::string> submission_id;  // none = every unsettled submission
  bool forwarded = false;
  int64_t route_deadline_ms = 0;
  std::shared_ptr<AbortObserver> observer;
};

class DeleteObserver {
 public:
  virtual ~DeleteObserver() = default;
  virtual void on_deleted() = 0;
  virtual void on_failed(const PublicError& error) = 0;
};

// Aborts every unsettled submission of the session, then deletes what it
// admitted before the command arrived: submissions, history, idempotency keys.
struct DeleteCommand {
  SessionKey key;
  bool forwarded = false;
  int64_t route_deadline_ms = 0;
  std::shared_ptr<DeleteObserver> observer;
};

}  // namespace sluice::actors
