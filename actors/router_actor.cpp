#include "actors/router_actor.hpp"

#include <unordered_map>

#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/messages.hpp"
#include "actors/session_actor.hpp"

namespace sluice::actors {
namespace {

class RouterActor : public caf::event_based_actor {
 public:
  RouterActor(caf::actor_config& config, SessionContextPtr context)
      : caf::event_based_actor(config), context_(std::move(context)) {
    set_down_handler([this](caf::down_msg& down) { on_down(down); });
  }

  const char* name() const override { return "sluice.router"; }

  caf::behavior make_behavior() override {
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](submit_atom, const SubmitPtr& command) {
          if (stopping_) {
            command->observer->on_rejected(
                make_error("unavailable", "This node is shutting down; retry the request."));
            return;
          }
          forward(command->key, submit_atom::value, command);
        },
        [this](abort_atom, const AbortPtr& command) {
          if (stopping_) {
            command->observer->on_failed(
                make_error("unavailable", "This node is shutting down; retry the request."));
            return;
          }
          forward(command->key, abort_atom::value, command);
        },
        [this](ensure_atom, const SessionKey& key) {
          if (!stopping_) forward(key, ensure_atom::value);
        },
        [this](passivate_atom, const SessionKey& key, uint64_t received) -> bool {
          auto it = sessions_.find(key);
          if (it == sessions_.end() ||
              it->second.actor.address() != caf::actor_cast<caf::actor_addr>(current_sender()) ||
              it->second.forwarded != received) {
            return false;
          }
          forget(it);
          return true;
        },
        [this](count_atom) -> size_t { return sessions_.size(); },
        [this](shutdown_atom) -> caf::result<bool> {
          stopping_ = true;
          if (sessions_.empty()) return true;
          shutdown_promise_ = make_response_promise<bool>();
          for (auto& [key, entry] : sessions_) send(entry.actor, shutdown_atom::value);
          return shutdown_promise_;
        },
    };
  }

 private:
  struct Entry {
    caf::actor actor;
    uint64_t forwarded = 0;  // commands sent; a passivation must have seen them all
  };
  using Map = std::unordered_map<SessionKey, Entry, SessionKeyHash>;

  template <class... Ts>
  void forward(const SessionKey& key, Ts&&... message) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
      caf::actor session = spawn_session_actor(this, key, context_);
      monitor(session);
      by_address_.emplace(session.address(), key);
      it = sessions_.emplace(key, Entry{std::move(session), 0}).first;
      context_->metrics->live_sessions_add(1);
    }
    ++it->second.forwarded;
    send(it->second.actor, std::forward<Ts>(message)...);
  }

  void forget(Map::iterator it) {
    demonitor(it->second.actor);
    by_address_.erase(it->second.actor.address());
    sessions_.erase(it);
    context_->metrics->live_sessions_add(-1);
    if (stopping_ && sessions_.empty() && shutdown_promise_.pending()) {
      shutdown_promise_.deliver(true);
    }
  }

  void on_down(const caf::down_msg& down) {
    auto by_address = by_address_.find(down.source);
    if (by_address == by_address_.end()) return;
    const SessionKey key = by_address->second;
    auto it = sessions_.find(key);
    if (it != sessions_.end()) forget(it);
    if (down.reason && !stopping_) {
      // A session that failed may still have work queued in storage: bring it
      // back after a pause rather than leaving it until the next request.
      spdlog::warn("session {} stopped: {}; restarting it shortly", key.str(),
                   to_string(down.reason));
      continue_after(this, std::chrono::milliseconds(1000), [this, key] {
        if (!stopping_) forward(key, ensure_atom::value);
      });
    }
  }

  SessionContextPtr context_;
  Map sessions_;
  std::unordered_map<caf::actor_addr, SessionKey> by_address_;
  bool stopping_ = false;
  caf::response_promise shutdown_promise_;
};

}  // namespace

caf::actor spawn_router(caf::actor_system& system, SessionContextPtr context) {
  return system.spawn<RouterActor>(std::move(context));
}

}  // namespace sluice::actors
