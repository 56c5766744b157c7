#include "net/websocket_workflow.hpp"

#include <mutex>

#include "core/stored_json.hpp"
#include "net/websocket_protocol.hpp"

namespace sluice::net {
namespace {

using persistence::RunRecord;

// One run's answers; the run closes the socket when it ends.
class SocketRun final : public workflows::RunObserver {
 public:
  SocketRun(std::shared_ptr<WebSocket> socket, std::string request_id)
      : socket_(std::move(socket)), request_id_(std::move(request_id)) {}

  ~SocketRun() override {
    if (finished_) return;
    // The engine let go of the run without an outcome (the node stopped).
    end(make_error("unavailable", "The run's node stopped before the run ended.",
                   "Read the run with GET /runs/:runId."));
  }

  void on_started(const RunRecord& run) override {
    std::lock_guard lock(mutex_);
    run_id_ = run.run_id;
    send("started", {{"runId", run.run_id}});
  }

  void on_rejected(const PublicError& error) override {
    std::lock_guard lock(mutex_);
    end(error);
  }

  void on_event(const nlohmann::json& event) override {
    std::lock_guard lock(mutex_);
    if (!finished_) send("event", {{"runId", run_id_}, {"event", event}});
  }

  void on_finished(const RunRecord& run) override {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    if (!run.is_error) {
      finished_ = true;
      send("result", {{"runId", run.run_id}, {"result", parsed_or_null(run.result_json)}});
      socket_->close(kCloseNormal, "");
      return;
    }
    end(run.error_json ? PublicError::from_json(parsed_or_null(run.error_json))
                       : make_error("internal_error", "The run failed."));
  }

  bool wants_events() const override { return true; }

 private:
  void send(const std::string& type, nlohmann::json fields) {
    fields["requestId"] = request_id_;
    socket_->send(websocket_frame(type, std::move(fields)));
  }

  // An error frame (run-scoped once the run exists), then the close.
  void end(PublicError error) {
    if (finished_) return;
    finished_ = true;
    if (run_id_.empty()) {
      socket_->send(websocket_error_frame(request_id_, error));
    } else {
      if (!error.meta.is_object()) error.meta = nlohmann::json::object();
      error.meta["runId"] = run_id_;
      socket_->send(websocket_error_frame(request_id_, error, run_id_));
    }
    socket_->close(kCloseNormal, "");
  }

  std::shared_ptr<WebSocket> socket_;
  const std::string request_id_;
  std::mutex mutex_;
  bool finished_ = false;
  std::string run_id_;
};

class WorkflowSocket final : public WebSocketProtocol {
 public:
  WorkflowSocket(std::shared_ptr<WebSocket> socket, WorkflowSocketTarget target)
      : WebSocketProtocol(std::move(socket), target.max_frame_bytes), target_(std::move(target)) {}

 private:
  std::optional<PublicError> on_frame(const ClientFrame& frame) override {
    if (frame.type != "invoke") {
      return make_error("invalid_request", "Unknown frame type \"" + frame.type + "\".",
                        "A workflow socket accepts one \"invoke\", and \"ping\".");
    }
    if (auto error = require_request_id(frame)) return error;
    if (invoked_) {
      return make_error("invalid_request", "This socket has already invoked its workflow.",
                        "Open another socket for another run.");
    }
    invoked_ = true;
    auto payload = frame.body.find("payload");
    target_.runs->start(target_.workflow,
                        payload == frame.body.end() ? nlohmann::json() : *payload,
                        std::make_shared<SocketRun>(socket_handle(), *frame.request_id));
    return std::nullopt;
  }

  WorkflowSocketTarget target_;
  bool invoked_ = false;
};

}  // namespace

std::shared_ptr<WebSocketHandler> open_workflow_socket(std::shared_ptr<WebSocket> socket,
                                                       WorkflowSocketTarget target) {
  socket->send(websocket_frame("ready", {{"target", "workflow"}, {"name", target.workflow}}));
  return std::make_shared<WorkflowSocket>(std::move(socket), std::move(target));
}

}  // namespace sluice::net
