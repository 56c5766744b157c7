#include "actors/coordinator_actor.hpp"

#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/messages.hpp"

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
    send(this, reconcile_atom::value);
    delayed_send(this, options_.renew_every, renew_atom::value);
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](reconcile_atom) { scan(); },
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
  void scan() {
    if (stopping_) return;
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<std::vector<SessionKey>>(
        [node = context_->node, limit = options_.reclaim_batch](Transaction& txn) {
          return txn.orphaned_sessions(node, limit);
        },
        [self, this](StorageResult<std::vector<SessionKey>> result) {
          continue_in(self, [this, result = std::move(result)] { on_scanned(result); });
        });
  }

  void on_scanned(const StorageResult<std::vector<SessionKey>>& result) {
    auto next = options_.reclaim_every;
    if (auto* error = std::get_if<StorageError>(&result)) {
      health_->storage_ok = false;
      spdlog::error("coordinator: orphan scan failed: {}", error->message);
    } else {
      health_->storage_ok = true;
      const auto& keys = std::get<std::vector<SessionKey>>(result);
      if (!keys.empty()) {
        spdlog::info("coordinator: taking over {} session(s) with unsettled work", keys.size());
      }
      for (const SessionKey& key : keys) send(router_, ensure_atom::value, key);
      // A full batch means more are waiting; give the sessions a moment to claim.
      if (keys.size() == static_cast<size_t>(options_.reclaim_batch)) {
        next = std::chrono::milliseconds(100);
      }
    }
    if (!stopping_) delayed_send(this, next, reconcile_atom::value);
  }

  void renew() {
    if (stopping_) return;
    auto self = caf::actor_cast<caf::actor>(this);
    context_->storage->submit<bool>([node = context_->node, lease = options_.lease.count()](
                                        Transaction& txn) { return txn.renew_lease(node, lease); },
                                    [self, this](StorageResult<bool> result) {
                                      continue_in(self, [this, result] { on_renewed(result); });
                                    });
  }

  void on_renewed(const StorageResult<bool>& result) {
    if (auto* error = std::get_if<StorageError>(&result)) {
      health_->storage_ok = false;
      spdlog::error("coordinator: lease renewal failed: {}", error->message);
    } else {
      health_->storage_ok = true;
      const bool held = std::get<bool>(result);
      if (!held && health_->lease_held) {
        spdlog::error("coordinator: this node's lease was taken over; its sessions are fenced");
      }
      health_->lease_held = held;
    }
    if (!stopping_) delayed_send(this, options_.renew_every, renew_atom::value);
  }

  SessionContextPtr context_;
  caf::actor router_;
  CoordinatorOptions options_;
  std::shared_ptr<NodeHealth> health_;
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
