#include "net/websocket_agent.hpp"

#include <mutex>

#include "actors/outcomes.hpp"
#include "core/clock.hpp"
#include "net/record_json.hpp"
#include "net/request_validation.hpp"
#include "net/websocket_protocol.hpp"

namespace sluice::net {
namespace {

using persistence::SubmissionRecord;
using persistence::SubmissionState;

// One prompt's answers. The session actor (or a cluster relay) calls it in
// order from one thread at a time; the mutex covers the destructor too.
class SocketPrompt final : public actors::SubmissionObserver {
 public:
  SocketPrompt(std::shared_ptr<WebSocket> socket, std::string request_id)
      : socket_(std::move(socket)), request_id_(std::move(request_id)) {}

  ~SocketPrompt() override {
    if (finished_) return;
    // Its session actor went away without an answer (as for an HTTP prompt).
    fail(make_error("unavailable", "The session's owner stopped before answering.",
                    "Look the submission up by its id."));
  }

  void on_admitted(const SubmissionRecord& record, bool) override {
    std::lock_guard lock(mutex_);
    submission_id_ = record.id;
    // sequence is an extension: it shows the admission order on the socket.
    send("started", {{"submissionId", record.id}, {"sequence", record.sequence}});
  }

  void on_rejected(const PublicError& error) override {
    std::lock_guard lock(mutex_);
    fail(error);
  }

  void on_event(const nlohmann::json& event) override {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    // Stamped as the SSE stream of an HTTP prompt stamps it: from 0 per prompt.
    nlohmann::json stamped = event;
    stamped["eventIndex"] = next_index_++;
    send("event", {{"event", std::move(stamped)}});
  }

  void on_settled(const SubmissionRecord& record) override {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (record.state == SubmissionState::completed) {
      send("result", {{"submissionId", record.id}, {"result", result_value(record)}});
    } else {
      socket_->send(websocket_error_frame(request_id_, actors::outcome_error(record)));
    }
  }

  bool wants_outcome() const override { return true; }
  bool wants_events() const override { return true; }

 private:
  void send(const std::string& type, nlohmann::json fields) {
    fields["requestId"] = request_id_;
    socket_->send(websocket_frame(type, std::move(fields)));
  }

  // With the mutex held (or from the destructor).
  void fail(PublicError error) {
    if (finished_) return;
    finished_ = true;
    if (!submission_id_.empty()) {
      if (!error.meta.is_object()) error.meta = nlohmann::json::object();
      error.meta["submissionId"] = submission_id_;
    }
    socket_->send(websocket_error_frame(request_id_, error));
  }

  std::shared_ptr<WebSocket> socket_;
  const std::string request_id_;
  std::mutex mutex_;
  bool finished_ = false;
  int64_t next_index_ = 0;
  std::string submission_id_;
};

class AgentSocket final : public WebSocketProtocol {
 public:
  AgentSocket(std::shared_ptr<WebSocket> socket, AgentSocketTarget target)
      : WebSocketProtocol(std::move(socket), target.max_frame_bytes), target_(std::move(target)) {}

 private:
  std::optional<PublicError> on_frame(const ClientFrame& frame) override {
    if (frame.type != "prompt") {
      return make_error("invalid_request", "Unknown frame type \"" + frame.type + "\".",
                        "An agent socket accepts \"prompt\" and \"ping\".");
    }
    if (auto error = require_request_id(frame)) return error;
    auto message = frame.body.find("message");
    if (message == frame.body.end() || !message->is_string()) {
      return make_error("invalid_request", "\"message\" is required and must be a string.");
    }
    actors::SubmitCommand command;
    command.received_at_ns = steady_now_ns();
    if (auto error = read_session(frame.body, command.key.session)) return error;
    command.key.agent = target_.agent;
    command.key.instance = target_.instance;
    command.kind = persistence::SubmissionKind::direct;
    command.input_text = message->get<std::string>();
    command.observer = std::make_shared<SocketPrompt>(socket_handle(), *frame.request_id);
    // Frames are handled one at a time on the socket's strand, and the gateway
    // keeps the order of what one thread sends: admissions follow frame order.
    target_.gateway->submit(std::move(command));
    return std::nullopt;
  }

  AgentSocketTarget target_;
};

}  // namespace

std::shared_ptr<WebSocketHandler> open_agent_socket(std::shared_ptr<WebSocket> socket,
                                                    AgentSocketTarget target) {
  socket->send(websocket_frame(
      "ready", {{"target", "agent"}, {"name", target.agent}, {"instanceId", target.instance}}));
  return std::make_shared<AgentSocket>(std::move(socket), std::move(target));
}

}  // namespace sluice::net
