#include "actors/coordinator_actor.hpp"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/interrupted_run.hpp"
#include "actors/messages.hpp"
#include "core/clock.hpp"

namespace sluice::actors {
namespace {

using persistence::RunRecord;
using persistence::StorageError;
using persistence::StorageResult;
using persistence::Transaction;

class CoordinatorActor : public caf::event_based_actor {
 public:
  CoordinatorActor(caf::actor_config& config, SessionContextPtr context, caf::actor router,
                   CoordinatorOptions options, std::shared_ptr<NodeHealth> health)
      : caf::event_based_actor(config),
        context_(std::move(context)),
        router_(std::move(router)),
        options_(options),
        health_(std::move(health)) {}

  const char* name() const override { return "sluice.coordinator"; }

  caf::behavior make_behavior() override {
    if (options_.cluster) {
      // Learn the members first: the first scan runs once they are known, so
      // this node does not pick up sessions that are not its own.
      send(this, renew_atom::value);
    } else {
      send(this, reconcile_atom::value);
      delayed_send(this, options_.renew_every, renew_atom::value);
    }
    if (options_.retention.count() > 0) send(this, purge_atom::value);
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](reconcile_atom) { scan(true); },
        [this](renew_atom) { renew(); },
        [this](purge_atom) { purge(); },
        [this](shutdown_atom) -> caf::result<bool> {
          stopping_ = true;
          auto promise = make_response_promise<bool>();
          context_->storage->submit<bool>(
              [node = context_->node](Transaction& txn) {
                txn.deregister_node(node);
                return true;
              },
              [self = caf::actor_cast<caf::actor>(this), promise,
               health = health_](StorageResult<bool>) mutable {
                health->lease_held = false;
                continue_in(self, [promise]() mutable { promise.deliver(true); });
              });
          return promise;
        },
    };
  }

 private:
  // periodic: this scan schedules the next one (there is one such chain).
  struct Scan {
    std::vector<SessionKey> sessions;  // with unsettled work and no live owner
    std::vector<RunRecord> runs;       // active, and their node is gone
  };

  void scan(bool periodic) {
    if (stopping_) return;
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<Scan>(
        [node = context_->node, limit = options_.reclaim_batch,
         run_limit = options_.interrupted_batch](Transaction& txn) {
          return Scan{txn.orphaned_sessions(node, limit), txn.interrupted_runs(node, run_limit)};
        },
        [self, this, periodic](StorageResult<Scan> result) {
          auto shared = std::make_shared<StorageResult<Scan>>(std::move(result));
          continue_in(self, [this, periodic, shared] { on_scanned(*shared, periodic); });
        });
  }

  void on_scanned(const StorageResult<Scan>& result, bool periodic) {
    auto next = options_.reclaim_every;
    if (auto* error = std::get_if<StorageError>(&result)) {
      health_->storage_ok = false;
      spdlog::error("coordinator: orphan scan failed: {}", error->message);
    } else {
      health_->storage_ok = true;
      for (const RunRecord& run : std::get<Scan>(result).runs) end_interrupted(run);
      const auto& keys = std::get<Scan>(result).sessions;
      if (!keys.empty()) {
        spdlog::info("coordinator: {} session(s) with unsettled work have no live owner",
                     keys.size());
      }
      for (const SessionKey& key : keys) send(router_, ensure_atom::value, key);
      // A full batch means more are waiting; give the sessions a moment to claim.
      if (keys.size() == static_cast<size_t>(options_.reclaim_batch)) {
        next = std::chrono::milliseconds(100);
      }
    }
    if (periodic && !stopping_) delayed_send(this, next, reconcile_atom::value);
  }

  // One storage job per run, so a run that someone else ended meanwhile (its
  // append is fenced) does not hold up the others.
  void end_interrupted(const RunRecord& run) {
    if (!ending_.insert(run.run_id).second) return;  // already being ended
    auto closing = std::make_shared<RunClosing>(close_interrupted_run(run, now_ms()));
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<std::vector<int64_t>>(
        [run_id = run.run_id, incarnation = run.owner_incarnation, closing](Transaction& txn) {
          return txn.append_run_events(run_id, incarnation, closing->events, closing->ending);
        },
        [self, this, run](StorageResult<std::vector<int64_t>> result) {
          auto shared = std::make_shared<StorageResult<std::vector<int64_t>>>(std::move(result));
          continue_in(self, [this, run, shared] { on_interrupted_ended(run, *shared); });
        });
  }

  void on_interrupted_ended(const RunRecord& run,
                            const StorageResult<std::vector<int64_t>>& result) {
    ending_.erase(run.run_id);
    if (auto* error = std::get_if<StorageError>(&result)) {
      if (error->kind == StorageError::Kind::fenced) {
        spdlog::debug("coordinator: run {} was ended elsewhere", run.run_id);
      } else {
        spdlog::error("coordinator: cannot end run {}: {}", run.run_id, error->message);
      }
      return;
    }
    const auto& indexes = std::get<std::vector<int64_t>>(result);
    spdlog::warn("coordinator: ended run {} of workflow {}: node {} (incarnation {}) that ran "
                 "it is gone",
                 run.run_id, run.workflow_name, run.owner_node, run.owner_incarnation);
    if (options_.on_run_ended && !indexes.empty()) {
      options_.on_run_ended(run.run_id, indexes.back());
    }
  }

  // Retention: one pass now, the next after purge_every.
  void purge() {
    if (stopping_) return;
    const int64_t cutoff = now_ms() - options_.retention.count();
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<persistence::PurgeCounts>(
        [cutoff](Transaction& txn) { return txn.purge_settled_before(cutoff); },
        [self, this, cutoff](StorageResult<persistence::PurgeCounts> result) {
          continue_in(self, [this, cutoff, result = std::move(result)] {
            on_purged(cutoff, result);
          });
        });
  }

  void on_purged(int64_t cutoff, const StorageResult<persistence::PurgeCounts>& result) {
    if (auto* error = std::get_if<StorageError>(&result)) {
      spdlog::error("coordinator: retention purge failed: {}", error->message);
    } else if (const auto& counts = std::get<persistence::PurgeCounts>(result);
               counts.submissions + counts.idempotency_keys + counts.runs + counts.run_events > 0) {
      spdlog::info(
          "coordinator: retention removed {} submission(s), {} idempotency key(s), {} run(s) "
          "and {} run event(s) settled before {}",
          counts.submissions, counts.idempotency_keys, counts.runs, counts.run_events,
          iso8601(cutoff));
    }
    if (!stopping_) delayed_send(this, options_.purge_every, purge_atom::value);
  }

  struct Renewal {
    bool held = false;
    bool rejoined = false;
    std::vector<persistence::NodeRecord> nodes;  // read in cluster mode only
  };

  void renew() {
    if (stopping_) return;
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<Renewal>(
        [node = context_->node, lease = options_.lease.count(),
         cluster = options_.cluster](Transaction& txn) {
          Renewal renewal;
          renewal.held = txn.renew_lease(node, lease);
          std::vector<persistence::NodeRecord> nodes;
          if (!renewal.held || cluster) nodes = txn.list_nodes();
          if (!renewal.held) {
            // Rejoin only if the row is still ours: another process running
            // under the same node id has replaced us, and must not be fought.
            const bool ours = std::any_of(nodes.begin(), nodes.end(), [&](const auto& row) {
              return row.node_id == node.node_id && row.incarnation == node.incarnation;
            });
            if (ours) {
              txn.register_node(node, lease);
              renewal.rejoined = true;
              renewal.held = true;
              nodes = txn.list_nodes();
            }
          }
          if (cluster) renewal.nodes = std::move(nodes);
          return renewal;
        },
        [self, this](StorageResult<Renewal> result) {
          auto shared = std::make_shared<StorageResult<Renewal>>(std::move(result));
          continue_in(self, [this, shared] { on_renewed(*shared); });
        });
  }

  void on_renewed(const StorageResult<Renewal>& result) {
    if (auto* error = std::get_if<StorageError>(&result)) {
      health_->storage_ok = false;
      spdlog::error("coordinator: lease renewal failed: {}", error->message);
    } else {
      health_->storage_ok = true;
      const Renewal& renewal = std::get<Renewal>(result);
      if (renewal.rejoined) {
        spdlog::warn("coordinator: this node's lease had lapsed; rejoined (sessions claimed by "
                     "others meanwhile are fenced against this node)");
      } else if (!renewal.held && health_->lease_held) {
        spdlog::error("coordinator: another process registered as node {}; this one is fenced",
                      context_->node.node_id);
      }
      health_->lease_held = renewal.held;
      if (options_.cluster) publish_members(renewal.nodes);
    }
    if (!stopping_) delayed_send(this, options_.renew_every, renew_atom::value);
  }

  void publish_members(const std::vector<persistence::NodeRecord>& nodes) {
    auto live = std::make_shared<MemberList>(live_members(nodes, now_ms()));
    if (members_ && *members_ == *live) return;
    std::string names;
    std::vector<std::string> ids;
    for (const Member& m : *live) {
      names += (names.empty() ? "" : ", ") + m.node_id;
      ids.push_back(m.node_id);
    }
    health_->set_view(std::move(ids));
    spdlog::info("coordinator: live members now [{}]", names);
    const bool first = !members_;
    members_ = live;
    health_->joined = std::any_of(live->begin(), live->end(), [&](const Member& m) {
      return m.node_id == context_->node.node_id;
    });
    send(router_, members_atom::value, MembersPtr(members_));
    scan(first);  // a member that left may have left work behind
  }

  SessionContextPtr context_;
  caf::actor router_;
  CoordinatorOptions options_;
  std::shared_ptr<NodeHealth> health_;
  MembersPtr members_;
  std::set<std::string> ending_;  // runs whose ending is being written
  bool stopping_ = false;
};

}  // namespace

caf::actor spawn_coordinator(caf::actor_system& system, SessionContextPtr context,
                             caf::actor router, CoordinatorOptions options,
                             std::shared_ptr<NodeHealth> health) {
  return system.spawn<CoordinatorActor>(std::move(context), std::move(router), options,
                                        std::move(health));
}

}  // namespace sluice::actors
