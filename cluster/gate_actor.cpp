#include "cluster/gate_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "core/clock.hpp"

namespace sluice::cluster {
namespace {

using actors::reply_atom;

// Seals each answer and sends it to the relay actor waiting on the sender's node.
class Answer {
 public:
  Answer(caf::actor reply_to, std::shared_ptr<const Sealer> sealer)
      : reply_to_(std::move(reply_to)), sealer_(std::move(sealer)) {}
  void operator()(const nlohmann::json& body) const {
    caf::anon_send(reply_to_, reply_atom::value, sealer_->seal(body));
  }

 private:
  caf::actor reply_to_;
  std::shared_ptr<const Sealer> sealer_;
};

class RemoteSubmissionObserver : public actors::SubmissionObserver {
 public:
  RemoteSubmissionObserver(Answer answer, bool wants_outcome, bool wants_events)
      : answer_(std::move(answer)), wants_outcome_(wants_outcome), wants_events_(wants_events) {}
  void on_admitted(const persistence::SubmissionRecord& record, bool replayed) override {
    answer_({{"op", "admitted"}, {"record", record_to_wire(record)}, {"replayed", replayed}});
  }
  void on_rejected(const PublicError& error) override {
    answer_({{"op", "rejected"}, {"error", error.to_json()}});
  }
  void on_event(const nlohmann::json& event) override {
    answer_({{"op", "event"}, {"event", event}});
  }
  void on_settled(const persistence::SubmissionRecord& record) override {
    answer_({{"op", "settled"}, {"record", record_to_wire(record)}});
  }
  bool wants_outcome() const override { return wants_outcome_; }
  bool wants_events() const override { return wants_events_; }

 private:
  Answer answer_;
  bool wants_outcome_;
  bool wants_events_;
};

class RemoteAbortObserver : public actors::AbortObserver {
 public:
  explicit RemoteAbortObserver(Answer answer) : answer_(std::move(answer)) {}
  void on_aborted(const std::vector<std::string>& ids) override {
    answer_({{"op", "aborted"}, {"ids", ids}});
  }
  void on_failed(const PublicError& error) override {
    answer_({{"op", "abort_failed"}, {"error", error.to_json()}});
  }

 private:
  Answer answer_;
};

class RemoteDeleteObserver : public actors::DeleteObserver {
 public:
  explicit RemoteDeleteObserver(Answer answer) : answer_(std::move(answer)) {}
  void on_deleted() override { answer_({{"op", "deleted"}}); }
  void on_failed(const PublicError& error) override {
    answer_({{"op", "delete_failed"}, {"error", error.to_json()}});
  }

 private:
  Answer answer_;
};

caf::behavior gate(caf::event_based_actor* self, caf::actor router,
                   std::shared_ptr<const Sealer> sealer) {
  return {
      [self, router, sealer](actors::forward_atom, const std::string& sealed,
                             const caf::actor& reply_to) {
        const std::optional<nlohmann::json> request = sealer->open(sealed);
        if (!request) {
          spdlog::warn("cluster: dropped a message from node {} that is not sealed with this "
                       "cluster's secret",
                       caf::to_string(self->current_sender() ? self->current_sender()->node()
                                                             : caf::node_id{}));
          return;
        }
        Answer answer(reply_to, sealer);
        try {
          const std::string op = request->at("op").get<std::string>();
          if (op == "submit") {
            actors::SubmitCommand command = submit_from_wire(*request);
            command.received_at_ns = steady_now_ns();
            command.observer = std::make_shared<RemoteSubmissionObserver>(
                answer, request->at("wantsOutcome").get<bool>(),
                request->at("wantsEvents").get<bool>());
            self->send(router, actors::submit_atom::value,
                       actors::SubmitPtr(std::make_shared<const actors::SubmitCommand>(
                           std::move(command))));
          } else if (op == "abort") {
            actors::AbortCommand command = abort_from_wire(*request);
            command.observer = std::make_shared<RemoteAbortObserver>(answer);
            self->send(router, actors::abort_atom::value,
                       actors::AbortPtr(std::make_shared<const actors::AbortCommand>(
                           std::move(command))));
          } else if (op == "delete") {
            actors::DeleteCommand command = delete_from_wire(*request);
            command.observer = std::make_shared<RemoteDeleteObserver>(answer);
            self->send(router, actors::delete_atom::value,
                       actors::DeletePtr(std::make_shared<const actors::DeleteCommand>(
                           std::move(command))));
          } else {
            throw std::runtime_error("unknown op " + op);
          }
        } catch (const std::exception& e) {
          spdlog::warn("cluster: malformed forwarded command: {}", e.what());
          answer({{"op", "rejected"},
                  {"error", make_error("internal_error", "A node sent a malformed command.").to_json()}});
        }
      },
  };
}

}  // namespace

caf::actor spawn_gate(caf::actor_system& system, caf::actor router,
                      std::shared_ptr<const Sealer> sealer) {
  return system.spawn(gate, std::move(router), std::move(sealer));
}

}  // namespace sluice::cluster
