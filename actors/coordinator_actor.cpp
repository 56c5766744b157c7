#include "actors/coordinator_actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/messages.hpp"
#include "core/clock.hpp"

namespace sluice::actors {
namespace {

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
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](reconcile_atom) { scan(true); },
        [this](renew_atom) { renew(); },
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
  void scan(bool periodic) {
    if (stopping_) return;
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<std::vector<SessionKey>>(
        [node = context_->node, limit = options_.reclaim_batch](Transaction& txn) {
          return txn.orphaned_sessions(node, limit);
        },
        [self, this, periodic](StorageResult<std::vector<SessionKey>> result) {
          continue_in(self, [this, periodic, result = std::move(result)] {
            on_scanned(result, periodic);
          });
        });
  }

  void on_scanned(const StorageResult<std::vector<SessionKey>>& result, bool periodic) {
    auto next = options_.reclaim_every;
    if (auto* error = std::get_if<StorageError>(&result)) {
      health_->storage_ok = false;
      spdlog::error("coordinator: orphan scan failed: {}", error->message);
    } else {
      health_->storage_ok = true;
      const auto& keys = std::get<std::vector<SessionKey>>(result);
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
