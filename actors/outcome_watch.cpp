#include "actors/outcome_watch.hpp"

#include <caf/all.hpp>

#include "actors/continuation.hpp"
#include "core/clock.hpp"

namespace sluice::actors {
namespace {

using persistence::StorageResult;
using persistence::SubmissionRecord;
using persistence::Transaction;

constexpr std::chrono::milliseconds kPollEvery{200};

class OutcomeWatch : public caf::event_based_actor {
 public:
  OutcomeWatch(caf::actor_config& config, persistence::StorageExecutor* storage,
               SubmissionRecord record, std::shared_ptr<SubmissionObserver> observer,
               int64_t deadline_ms)
      : caf::event_based_actor(config),
        storage_(storage),
        record_(std::move(record)),
        observer_(std::move(observer)),
        deadline_ms_(deadline_ms) {}

  const char* name() const override { return "sluice.outcome_watch"; }

  caf::behavior make_behavior() override {
    poll();
    return {[](continue_atom, const Continuation& k) { (*k)(); }};
  }

 private:
  void poll() {
    auto self = caf::actor_cast<caf::actor>(this);
    storage_->submit<std::optional<SubmissionRecord>>(
        [agent = record_.key.agent, instance = record_.key.instance,
         id = record_.id](Transaction& txn) { return txn.get_submission(agent, instance, id); },
        [self, this](StorageResult<std::optional<SubmissionRecord>> result) {
          // Shared rather than moved into the closure: GCC 12 raises a false
          // maybe-uninitialized warning on moving this variant.
          auto shared = std::make_shared<decltype(result)>(std::move(result));
          continue_in(self, [this, shared] { on_polled(*shared); });
        });
  }

  void on_polled(const StorageResult<std::optional<SubmissionRecord>>& result) {
    if (const auto* found = std::get_if<std::optional<SubmissionRecord>>(&result);
        found && *found && persistence::is_terminal((*found)->state)) {
      observer_->on_settled(**found);
      quit();
      return;
    }
    const auto* error = std::get_if<persistence::StorageError>(&result);
    const bool storage_stopped = error && error->kind == persistence::StorageError::Kind::stopped;
    if (storage_stopped || now_ms() >= deadline_ms_) {
      observer_->on_rejected(make_error(
          "unavailable", "The submission has not settled yet.",
          "It stays admitted; poll its record.",
          {{"submissionId", record_.id}, {"reason", "owner_unavailable"}}));
      quit();
      return;
    }
    continue_after(this, kPollEvery, [this] { poll(); });
  }

  persistence::StorageExecutor* storage_;
  SubmissionRecord record_;
  std::shared_ptr<SubmissionObserver> observer_;
  int64_t deadline_ms_;
};

}  // namespace

void watch_outcome(caf::actor_system& system, persistence::StorageExecutor* storage,
                   const persistence::SubmissionRecord& record,
                   std::shared_ptr<SubmissionObserver> observer, int64_t deadline_ms) {
  system.spawn<OutcomeWatch>(storage, record, std::move(observer), deadline_ms);
}

}  // namespace sluice::actors
