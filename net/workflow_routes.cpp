#include "net/workflow_routes.hpp"

#include <mutex>

#include "core/stored_json.hpp"
#include "net/openapi_operations.hpp"
#include "net/request_validation.hpp"
#include "net/responses.hpp"

namespace sluice::net {
namespace {

using persistence::RunRecord;
using persistence::RunStatus;

constexpr const char* kRunHeader = "X-Flue-Run-Id";

enum class RunMode { accepted, result, stream };

PublicError run_error(const RunRecord& run) {
  PublicError error = run.error_json
                          ? PublicError::from_json(parsed_or_null(run.error_json))
                          : make_error("internal_error", "The run failed.");
  if (!error.meta.is_object()) error.meta = nlohmann::json::object();
  error.meta["runId"] = run.run_id;
  return error;
}

// Answers one POST /workflows/:name. Calls come from the run actor or the
// engine (never an io thread); the Responder posts to the connection.
class RunChannel : public workflows::RunObserver {
 public:
  RunChannel(std::shared_ptr<Responder> responder, RunMode mode)
      : responder_(std::move(responder)), mode_(mode) {}

  void on_started(const RunRecord& run) override {
    std::lock_guard lock(mutex_);
    run_id_ = run.run_id;
    if (mode_ == RunMode::accepted) {
      responder_->respond(json_response(202, {{"status", "accepted"}, {"runId", run.run_id}},
                                        {{kRunHeader, run.run_id}}));
    } else if (mode_ == RunMode::stream) {
      responder_->open_stream({{kRunHeader, run.run_id}});
    }
  }

  void on_rejected(const PublicError& error) override {
    std::lock_guard lock(mutex_);
    responder_->respond(error_response(error));
  }

  void on_event(const nlohmann::json& event) override {
    std::lock_guard lock(mutex_);
    if (event.value("type", "") == "run_end") saw_end_ = true;
    responder_->stream_write(
        sse_frame(event.value("type", "event"), event.value("eventIndex", int64_t{0}), event));
  }

  void on_finished(const RunRecord& run) override {
    std::lock_guard lock(mutex_);
    if (mode_ == RunMode::result) {
      if (run.status == RunStatus::completed) {
        responder_->respond(json_response(
            200, {{"result", parsed_or_null(run.result_json)}, {"_meta", {{"runId", run.run_id}}}},
            {{kRunHeader, run.run_id}}));
      } else {
        responder_->respond(error_response(run_error(run), {{kRunHeader, run.run_id}}));
      }
    } else if (mode_ == RunMode::stream) {
      // run_end was the last event written; a run lost by this node has none.
      if (run.status == RunStatus::errored && !saw_end_) {
        responder_->stream_write("event: error\ndata: " +
                                 nlohmann::json{{"error", run_error(run).to_json()}}.dump() +
                                 "\n\n");
      }
      responder_->close_stream();
    }
  }

  bool wants_events() const override { return mode_ == RunMode::stream; }

 private:
  std::shared_ptr<Responder> responder_;
  RunMode mode_;
  std::mutex mutex_;
  std::string run_id_;
  bool saw_end_ = false;
};

void start_run(workflows::RunStarter& runs, HttpRequest& request, const PathParams& params,
               std::shared_ptr<Responder> responder) {
  const std::string& name = params.at("name");
  auto workflow = runs.find(name);
  if (!workflow) {
    responder->respond(
        error_response(make_error("workflow_not_found", "No workflow is named '" + name + "'.")));
    return;
  }
  if (!workflow->expose_http) {
    responder->respond(error_response(make_error(
        "workflow_not_http", "The workflow '" + name + "' is not exposed over HTTP.",
        "Add \"http\" to its expose list.")));
    return;
  }
  RunMode mode = RunMode::accepted;
  if (auto wait = request.query_param("wait")) {
    if (*wait != "result") {
      responder->respond(error_response(make_error(
          "invalid_request", "wait=" + *wait + " is not supported.", "Use wait=result.")));
      return;
    }
    mode = RunMode::result;
  }
  if (request.header("Accept").find("text/event-stream") != std::string::npos) {
    mode = RunMode::stream;
  }
  nlohmann::json payload = nullptr;
  if (!request.body.empty()) {
    if (auto error = require_json_content(request)) {
      responder->respond(error_response(*error));
      return;
    }
    if (auto error = parse_json_value(request.body, payload)) {
      responder->respond(error_response(*error));
      return;
    }
  }
  runs.start(name, std::move(payload), std::make_shared<RunChannel>(std::move(responder), mode));
}

}  // namespace

void add_workflow_routes(RouteTable& table, WorkflowRouteServices services) {
  table.add({"POST", "/workflows/:name",
             "Start a workflow run (202; ?wait=result for its result; SSE with Accept: "
             "text/event-stream)",
             [runs = services.runs](HttpRequest& request, const PathParams& params,
                                    std::shared_ptr<Responder> responder) {
               start_run(*runs, request, params, std::move(responder));
             },
             openapi::workflow_start_operation()});
}

}  // namespace sluice::net
