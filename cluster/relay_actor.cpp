#include "cluster/relay_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/continuation.hpp"
#include "actors/messages.hpp"
#include "actors/outcome_watch.hpp"
#include "core/clock.hpp"

namespace sluice::cluster {
namespace {

using actors::continue_atom;
using actors::Continuation;

PublicError owner_unreachable() {
  return make_error("unavailable", "The node that owns this session did not answer.",
                    "Retry the request (with the same Idempotency-Key, so it is not admitted twice).",
                    {{"reason", "owner_unreachable"}});
}

// What both relays share: sending, the admission deadline, the owner's loss.
class Relay : public caf::event_based_actor {
 public:
  Relay(caf::actor_config& config, caf::actor gate, caf::actor router, RelayOptions options)
      : caf::event_based_actor(config),
        gate_(std::move(gate)),
        router_(std::move(router)),
        options_(std::move(options)) {
    set_down_handler([this](caf::down_msg& down) {
      if (down.source == gate_.address()) on_owner_lost();
    });
  }

  const char* name() const override { return "sluice.relay"; }

  caf::behavior make_behavior() override {
    monitor(gate_);
    send(gate_, actors::forward_atom::value, options_.sealer->seal(request()),
         caf::actor_cast<caf::actor>(this));
    admit_deadline_ms_ = now_ms() + options_.admit_timeout_ms;
    check_admission();
    return {
        [](continue_atom, const Continuation& k) { (*k)(); },
        [this](actors::reply_atom, const std::string& sealed) {
          const std::optional<nlohmann::json> answer = options_.sealer->open(sealed);
          if (!answer) return;  // not from a member of this cluster
          try {
            on_answer(*answer);
          } catch (const std::exception& e) {
            spdlog::warn("cluster: malformed answer from the owner: {}", e.what());
          }
        },
    };
  }

 protected:
  virtual nlohmann::json request() const = 0;
  virtual void on_answer(const nlohmann::json& answer) = 0;
  virtual void fail(const PublicError& error) = 0;
  virtual void on_owner_lost() = 0;

  // In steps of at most a second: a pending timer keeps its actor in memory,
  // and a relay that finished should not linger for the whole deadline.
  void check_admission() {
    const int64_t remaining = admit_deadline_ms_ - now_ms();
    if (remaining <= 0) {
      spdlog::warn("cluster: the owner did not admit a forwarded command in time");
      fail(owner_unreachable());
      return;
    }
    actors::continue_after(this, std::chrono::milliseconds(std::min<int64_t>(remaining, 1000)),
                           [this] {
                             if (!admitted_) check_admission();
                           });
  }

  // Gives the command back to the router to be routed again, once the members
  // may have noticed the lost node; false when its deadline has passed.
  template <class Command>
  bool route_again(const std::shared_ptr<const Command>& command) {
    if (!router_ || now_ms() >= command->route_deadline_ms) return false;
    delayed_send(router_, std::chrono::milliseconds(250), actors::reroute_atom::value, command);
    return true;
  }

  void done() {
    demonitor(gate_);
    quit();
  }

  caf::actor gate_;
  caf::actor router_;
  RelayOptions options_;
  bool admitted_ = false;
  int64_t admit_deadline_ms_ = 0;
};

class SubmitRelay final : public Relay {
 public:
  SubmitRelay(caf::actor_config& config, caf::actor gate, caf::actor router,
              actors::SubmitPtr command, RelayOptions options)
      : Relay(config, std::move(gate), std::move(router), std::move(options)),
        command_(std::move(command)) {}

 private:
  nlohmann::json request() const override { return submit_to_wire(*command_); }

  void on_answer(const nlohmann::json& answer) override {
    actors::SubmissionObserver& observer = *command_->observer;
    const std::string op = answer.at("op").get<std::string>();
    if (op == "admitted") {
      admitted_ = true;
      record_ = record_from_wire(answer.at("record"));
      observer.on_admitted(record_, answer.at("replayed").get<bool>());
      if (!observer.wants_outcome() || persistence::is_terminal(record_.state)) {
        if (persistence::is_terminal(record_.state)) observer.on_settled(record_);
        done();
      }
    } else if (op == "event") {
      observer.on_event(answer.at("event"));
    } else if (op == "settled") {
      observer.on_settled(record_from_wire(answer.at("record")));
      done();
    } else if (op == "rejected") {
      observer.on_rejected(PublicError::from_json(answer.at("error")));
      done();
    }
  }

  void fail(const PublicError& error) override {
    command_->observer->on_rejected(error);
    done();
  }

  void on_owner_lost() override {
    if (!admitted_) {
      // The owner may have admitted it before it went: only an Idempotency-Key
      // makes sending it again safe (the next owner then replays the receipt).
      if (command_->idempotency && route_again(command_)) {
        done();
      } else {
        fail(owner_unreachable());
      }
      return;
    }
    // Admitted and durable: whoever takes the session over settles it.
    actors::watch_outcome(system(), options_.storage, record_, command_->observer,
                          now_ms() + options_.outcome_timeout_ms);
    done();
  }

  actors::SubmitPtr command_;
  persistence::SubmissionRecord record_;
};

// Abort and delete: one answer; when the owner is lost they are routed again,
// since doing either twice is harmless (the second finds nothing left to do).
template <class CommandPtr>
class RepeatableRelay : public Relay {
 public:
  RepeatableRelay(caf::actor_config& config, caf::actor gate, caf::actor router,
                  CommandPtr command, RelayOptions options)
      : Relay(config, std::move(gate), std::move(router), std::move(options)),
        command_(std::move(command)) {}

 protected:
  void fail(const PublicError& error) override {
    command_->observer->on_failed(error);
    done();
  }

  void on_owner_lost() override {
    if (route_again(command_)) {
      done();
    } else {
      fail(owner_unreachable());
    }
  }

  CommandPtr command_;
};

class AbortRelay final : public RepeatableRelay<actors::AbortPtr> {
 public:
  using RepeatableRelay::RepeatableRelay;

 private:
  nlohmann::json request() const override { return abort_to_wire(*command_); }

  void on_answer(const nlohmann::json& answer) override {
    if (answer.at("op").get<std::string>() == "aborted") {
      command_->observer->on_aborted(answer.at("ids").get<std::vector<std::string>>());
    } else {
      command_->observer->on_failed(PublicError::from_json(answer.at("error")));
    }
    done();
  }
};

class DeleteRelay final : public RepeatableRelay<actors::DeletePtr> {
 public:
  using RepeatableRelay::RepeatableRelay;

 private:
  nlohmann::json request() const override { return delete_to_wire(*command_); }

  // "delete_failed", or "rejected" from a node that does not know the op.
  void on_answer(const nlohmann::json& answer) override {
    if (answer.at("op").get<std::string>() == "deleted") {
      command_->observer->on_deleted();
    } else {
      command_->observer->on_failed(PublicError::from_json(answer.at("error")));
    }
    done();
  }
};

}  // namespace

void spawn_submit_relay(caf::actor_system& system, caf::actor gate, caf::actor router,
                        actors::SubmitPtr command, const RelayOptions& options) {
  system.spawn<SubmitRelay>(std::move(gate), std::move(router), std::move(command), options);
}

void spawn_abort_relay(caf::actor_system& system, caf::actor gate, caf::actor router,
                       actors::AbortPtr command, const RelayOptions& options) {
  system.spawn<AbortRelay>(std::move(gate), std::move(router), std::move(command), options);
}

void spawn_delete_relay(caf::actor_system& system, caf::actor gate, caf::actor router,
                        actors::DeletePtr command, const RelayOptions& options) {
  system.spawn<DeleteRelay>(std::move(gate), std::move(router), std::move(command), options);
}

}  // namespace sluice::cluster
