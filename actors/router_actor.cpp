#include "actors/router_actor.hpp"

#include <unordered_map>

#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/messages.hpp"
#include "actors/restart_pause.hpp"
#include "actors/session_actor.hpp"
#include "core/clock.hpp"

namespace sluice::actors {
namespace {

PublicError shutting_down() {
  return make_error("unavailable", "This node is shutting down; retry the request.");
}

// A command a leaving session gave back is routed afresh: the session may now
// belong to another node even if the command first came from one.
template <class Command>
std::shared_ptr<const Command> unpinned(const std::shared_ptr<const Command>& command) {
  if (!command->forwarded) return command;
  auto copy = std::make_shared<Command>(*command);
  copy->forwarded = false;
  return copy;
}

class RouterActor : public caf::event_based_actor {
 public:
  RouterActor(caf::actor_config& config, SessionContextPtr context, caf::actor forwarder)
      : caf::event_based_actor(config),
        context_(std::move(context)),
        forwarder_(std::move(forwarder)) {
    set_down_handler([this](caf::down_msg& down) { on_down(down); });
  }

  const char* name() const override { return "sluice.router"; }

  caf::behavior make_behavior() override {
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](submit_atom, const SubmitPtr& command) { route(command); },
        [this](abort_atom, const AbortPtr& command) { route(command); },
        [this](delete_atom, const DeletePtr& command) { route(command); },
        [this](reroute_atom, const SubmitPtr& command) { route(unpinned(command)); },
        [this](reroute_atom, const AbortPtr& command) { route(unpinned(command)); },
        [this](reroute_atom, const DeletePtr& command) { route(unpinned(command)); },
        [this](ensure_atom, const SessionKey& key) {
          if (stopping_ || remote_owner(key, false)) return;  // the owner's own scan finds it
          deliver(key, [this, key] { send(this, ensure_atom::value, key); }, ensure_atom::value);
        },
        [this](members_atom, const MembersPtr& members) { on_members(members); },
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
    bool leaving = false;    // handing over: commands wait in `parked` until it is gone
    std::vector<std::function<void()>> parked;
  };
  using Map = std::unordered_map<SessionKey, Entry, SessionKeyHash>;

  // The forwarder gives a command back while its owner cannot be reached (the
  // members have not noticed a dead node yet); it is routed again until then.
  template <class Command>
  std::shared_ptr<const Command> with_deadline(const std::shared_ptr<const Command>& command) {
    if (command->route_deadline_ms != 0) return command;
    auto copy = std::make_shared<Command>(*command);
    copy->route_deadline_ms = now_ms() + context_->limits.forward_timeout_ms;
    return copy;
  }

  static submit_atom atom_of(const SubmitCommand&) { return submit_atom::value; }
  static abort_atom atom_of(const AbortCommand&) { return abort_atom::value; }
  static delete_atom atom_of(const DeleteCommand&) { return delete_atom::value; }

  void reject(const SubmitPtr& command) { command->observer->on_rejected(shutting_down()); }
  void reject(const AbortPtr& command) { command->observer->on_failed(shutting_down()); }
  void reject(const DeletePtr& command) { command->observer->on_failed(shutting_down()); }

  // The member that owns `key` when that is another node; nullptr when it is
  // this one (or this node runs alone, or the command already crossed nodes).
  const Member* remote_owner(const SessionKey& key, bool forwarded) const {
    if (!members_ || forwarded) return nullptr;
    const Member* owner = owner_of(key.str(), *members_);
    if (!owner || owner->node_id == context_->node.node_id) return nullptr;
    return owner;
  }

  template <class Command>
  void route(const std::shared_ptr<const Command>& command) {
    if (stopping_) {
      reject(command);
      return;
    }
    if (const Member* owner = remote_owner(command->key, command->forwarded)) {
      send(forwarder_, atom_of(*command), with_deadline(command), owner->node_id,
           owner->advertise);
      return;
    }
    deliver(command->key, [this, command] { route(command); }, atom_of(*command), command);
  }

  // To the local session actor, spawning it if needed; parked while it leaves.
  template <class... Ts>
  void deliver(const SessionKey& key, std::function<void()> retry, Ts&&... message) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
      caf::actor session = spawn_session_actor(this, key, context_);
      monitor(session);
      by_address_.emplace(session.address(), key);
      Entry entry;
      entry.actor = std::move(session);
      it = sessions_.emplace(key, std::move(entry)).first;
      context_->metrics->live_sessions_add(1);
    } else if (it->second.leaving) {
      it->second.parked.push_back(std::move(retry));
      return;
    }
    ++it->second.forwarded;
    send(it->second.actor, std::forward<Ts>(message)...);
  }

  void on_members(const MembersPtr& members) {
    members_ = members;
    const std::string& self = context_->node.node_id;
    const bool joined = std::any_of(members->begin(), members->end(),
                                    [&](const Member& m) { return m.node_id == self; });
    // A node that is not a live member itself (its lease lapsed) keeps what it
    // runs: fencing decides whether it may still write, and it will rejoin.
    if (!joined || stopping_) return;
    size_t handed = 0;
    for (auto& [key, entry] : sessions_) {
      if (entry.leaving || !remote_owner(key, false)) continue;
      entry.leaving = true;
      send(entry.actor, handoff_atom::value);
      ++handed;
    }
    if (handed > 0) spdlog::info("router: handing {} session(s) to their new owners", handed);
  }

  void forget(Map::iterator it) {
    demonitor(it->second.actor);
    by_address_.erase(it->second.actor.address());
    auto parked = std::move(it->second.parked);
    sessions_.erase(it);
    context_->metrics->live_sessions_add(-1);
    for (auto& retry : parked) retry();
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
    if (!down.reason) {
      failures_.erase(key);
      return;
    }
    if (stopping_) return;
    // A session that failed may still have work queued in storage: bring it
    // back rather than leaving it until the next request, pausing longer
    // while it keeps failing.
    const int failures = ++failures_[key];
    const auto pause = restart_pause(failures);
    spdlog::warn("session {} stopped: {}; restarting it in {} ms (failure {} in a row)",
                 key.str(), to_string(down.reason), pause.count(), failures);
    continue_after(this, pause, [this, key] { send(this, ensure_atom::value, key); });
  }

  SessionContextPtr context_;
  caf::actor forwarder_;
  MembersPtr members_;  // null on a single node: every session is ours
  Map sessions_;
  std::unordered_map<caf::actor_addr, SessionKey> by_address_;
  // Failures in a row per session, until it next stops normally.
  std::unordered_map<SessionKey, int, SessionKeyHash> failures_;
  bool stopping_ = false;
  caf::response_promise shutdown_promise_;
};

}  // namespace

caf::actor spawn_router(caf::actor_system& system, SessionContextPtr context,
                        caf::actor forwarder) {
  return system.spawn<RouterActor>(std::move(context), std::move(forwarder));
}

}  // namespace sluice::actors
