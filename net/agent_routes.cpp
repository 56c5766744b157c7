#include "net/agent_routes.hpp"

#include <chrono>

#include "core/clock.hpp"
#include "core/digest.hpp"
#include "net/openapi_operations.hpp"
#include "net/record_json.hpp"
#include "net/request_validation.hpp"
#include "net/responses.hpp"
#include "net/storage_reads.hpp"
#include "net/submission_channels.hpp"

namespace sluice::net {
namespace {

using persistence::Page;
using persistence::StorageError;
using persistence::StorageResult;
using persistence::SubmissionKind;
using persistence::Transaction;

class AgentRoutes {
 public:
  explicit AgentRoutes(AgentRouteServices services) : services_(services) {}

  // Resolves the agent and instance of the path; answers the error itself.
  bool resolve(const PathParams& params, Responder& responder, SessionKey& key) const {
    const std::string& name = params.at("name");
    const auto project = services_.project->current();
    const harness::AgentDefinition* agent = project->find_agent(name);
    if (agent == nullptr || !agent->expose_http) {
      responder.respond(error_response(
          make_error("agent_not_found", "No HTTP-exposed agent is named '" + name + "'.")));
      return false;
    }
    if (auto error = check_instance_id(params.at("id"))) {
      responder.respond(error_response(*error));
      return false;
    }
    key.agent = name;
    key.instance = params.at("id");
    return true;
  }

  // Shared front half of prompt and dispatch: agent, body, session, key.
  bool read_submission(HttpRequest& request, const PathParams& params, Responder& responder,
                       nlohmann::json& body, actors::SubmitCommand& command) const {
    command.received_at_ns = steady_now_ns();
    if (!resolve(params, responder, command.key)) return false;
    std::optional<std::string> idempotency_key;
    std::optional<PublicError> error = require_json_content(request);
    if (!error) error = parse_json_object(request.body, body);
    if (!error) error = read_session(body, command.key.session);
    if (!error) error = read_idempotency_key(request, idempotency_key);
    if (error) {
      responder.respond(error_response(*error));
      return false;
    }
    if (idempotency_key) {
      command.idempotency = persistence::IdempotencyClaim{*idempotency_key, ""};
    }
    return true;
  }

  // The canonical request an idempotency key stands for: a replay must match it.
  static void seal_idempotency(actors::SubmitCommand& command) {
    if (!command.idempotency) return;
    const nlohmann::json canonical = {{"kind", persistence::to_string(command.kind)},
                                      {"session", command.key.session},
                                      {"input", command.input_text}};
    command.idempotency->body_hash = sha256_hex(canonical.dump());
  }

  void prompt(HttpRequest& request, const PathParams& params,
              std::shared_ptr<Responder> responder) const {
    nlohmann::json body;
    actors::SubmitCommand command;
    if (!read_submission(request, params, *responder, body, command)) return;
    auto message = body.find("message");
    if (message == body.end() || !message->is_string()) {
      responder->respond(error_response(
          make_error("invalid_request", "\"message\" is required and must be a string.")));
      return;
    }
    command.kind = SubmissionKind::direct;
    command.input_text = message->get<std::string>();
    seal_idempotency(command);
    const bool stream = request.header("Accept").find("text/event-stream") != std::string::npos;
    command.observer =
        make_prompt_channel(std::move(responder), stream ? PromptMode::stream : PromptMode::sync);
    services_.gateway->submit(std::move(command));
  }

  void dispatch(HttpRequest& request, const PathParams& params,
                std::shared_ptr<Responder> responder) const {
    nlohmann::json body;
    actors::SubmitCommand command;
    if (!read_submission(request, params, *responder, body, command)) return;
    auto input = body.find("input");
    if (input == body.end()) {
      responder->respond(error_response(make_error("invalid_request", "\"input\" is required.")));
      return;
    }
    command.kind = SubmissionKind::dispatch;
    command.input_text = input->is_string() ? input->get<std::string>() : input->dump();
    seal_idempotency(command);
    command.observer = make_dispatch_channel(std::move(responder));
    services_.gateway->submit(std::move(command));
  }

  void abort(HttpRequest& request, const PathParams& params,
             std::shared_ptr<Responder> responder) const {
    actors::AbortCommand command;
    if (!resolve(params, *responder, command.key)) return;
    nlohmann::json body = nlohmann::json::object();
    if (!request.body.empty()) {
      std::optional<PublicError> error = require_json_content(request);
      if (!error) error = parse_json_object(request.body, body);
      if (error) {
        responder->respond(error_response(*error));
        return;
      }
    }
    if (auto error = read_session(body, command.key.session)) {
      responder->respond(error_response(*error));
      return;
    }
    if (auto id = body.find("submissionId"); id != body.end() && !id->is_null()) {
      if (!id->is_string() || id->get_ref<const std::string&>().empty()) {
        responder->respond(error_response(
            make_error("invalid_request", "\"submissionId\" must be a non-empty string.")));
        return;
      }
      command.submission_id = id->get<std::string>();
    }
    command.observer = make_abort_channel(std::move(responder));
    services_.gateway->abort(std::move(command));
  }

  void remove(HttpRequest& request, const PathParams& params,
              std::shared_ptr<Responder> responder) const {
    actors::DeleteCommand command;
    if (!resolve(params, *responder, command.key) ||
        !read_session_param(request, *responder, command.key.session)) {
      return;
    }
    command.observer = make_delete_channel(std::move(responder));
    services_.gateway->remove(std::move(command));
  }

  template <class Work>
  void read(std::shared_ptr<Responder> responder, Work work) const {
    respond_from_storage(*services_.storage, std::move(responder), std::move(work));
  }

  bool read_session_param(const HttpRequest& request, Responder& responder,
                          std::string& session) const {
    nlohmann::json holder = nlohmann::json::object();
    if (auto value = request.query_param("session")) holder["session"] = *value;
    if (auto error = read_session(holder, session)) {
      responder.respond(error_response(*error));
      return false;
    }
    return true;
  }

  bool read_page(const HttpRequest& request, Responder& responder, Page& page) const {
    int64_t limit = 100;
    std::optional<PublicError> error = read_int_param(request, "after", 0, INT64_MAX, page.after);
    if (!error) error = read_int_param(request, "limit", 1, 1000, limit);
    if (error) {
      responder.respond(error_response(*error));
      return false;
    }
    page.limit = static_cast<int>(limit);
    return true;
  }

  // The resolve + session + page preamble of the paged reads.
  bool read_paged_request(const HttpRequest& request, const PathParams& params,
                          Responder& responder, SessionKey& key, Page& page) const {
    return resolve(params, responder, key) && read_session_param(request, responder, key.session) &&
           read_page(request, responder, page);
  }

  // {"<field>": [...], "next"?: cursor of the last item when the page is full}
  template <class Item, class ToJson, class Cursor>
  static HttpResponse page_response(const char* field, const std::vector<Item>& items,
                                    const Page& page, ToJson to_json, Cursor cursor) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : items) list.push_back(to_json(item));
    nlohmann::json body = {{field, std::move(list)}};
    if (static_cast<int>(items.size()) == page.limit) body["next"] = cursor(items.back());
    return json_response(200, body);
  }

  void list_submissions(HttpRequest& request, const PathParams& params,
                        std::shared_ptr<Responder> responder) const {
    SessionKey key;
    Page page;
    if (!read_paged_request(request, params, *responder, key, page)) return;
    std::optional<persistence::SubmissionState> state;
    if (auto text = request.query_param("state")) {
      state = persistence::parse_submission_state(*text);
      if (!state) {
        responder->respond(error_response(make_error(
            "invalid_request",
            "Query parameter 'state' must be queued, running, completed, failed or aborted.")));
        return;
      }
    }
    read(std::move(responder), [key, page, state](Transaction& txn) {
      return page_response("submissions", txn.list_submissions(key, state, page), page,
                           submission_json,
                           [](const persistence::SubmissionRecord& r) { return r.sequence; });
    });
  }

  void get_submission(HttpRequest&, const PathParams& params,
                      std::shared_ptr<Responder> responder) const {
    SessionKey key;
    if (!resolve(params, *responder, key)) return;
    read(std::move(responder), [key, id = params.at("submissionId")](Transaction& txn) {
      auto record = txn.get_submission(key.agent, key.instance, id);
      if (!record) {
        return error_response(make_error("submission_not_found",
                                         "No submission '" + id + "' for this agent instance."));
      }
      return json_response(200, submission_json(*record));
    });
  }

  void history(HttpRequest& request, const PathParams& params,
               std::shared_ptr<Responder> responder) const {
    SessionKey key;
    Page page;
    if (!read_paged_request(request, params, *responder, key, page)) return;
    read(std::move(responder), [key, page](Transaction& txn) {
      return page_response("entries", txn.read_history(key, page), page, history_entry_json,
                           [](const persistence::HistoryEntry& e) { return e.position; });
    });
  }

 private:
  AgentRouteServices services_;
};

}  // namespace

void add_agent_routes(RouteTable& table, AgentRouteServices services) {
  auto routes = std::make_shared<AgentRoutes>(services);
  auto bind = [routes](auto method) {
    return [routes, method](HttpRequest& request, const PathParams& params,
                            std::shared_ptr<Responder> responder) {
      ((*routes).*method)(request, params, std::move(responder));
    };
  };
  table.add({"POST", "/agents/:name/:id",
             "Prompt an agent (JSON, or SSE with Accept: text/event-stream)",
             bind(&AgentRoutes::prompt), openapi::agent_prompt_operation()});
  table.add({"POST", "/agents/:name/:id/dispatch", "Deliver an input asynchronously (202 receipt)",
             bind(&AgentRoutes::dispatch), openapi::agent_dispatch_operation()});
  table.add({"POST", "/agents/:name/:id/abort", "Abort a session's unsettled submissions",
             bind(&AgentRoutes::abort), openapi::agent_abort_operation()});
  table.add({"GET", "/agents/:name/:id/submissions", "A session's submissions in sequence order",
             bind(&AgentRoutes::list_submissions), openapi::agent_submissions_operation()});
  table.add({"GET", "/agents/:name/:id/submissions/:submissionId", "One submission record",
             bind(&AgentRoutes::get_submission), openapi::agent_submission_operation()});
  table.add({"GET", "/agents/:name/:id/history", "A session's durable history in order",
             bind(&AgentRoutes::history), openapi::agent_history_operation()});
  table.add({"DELETE", "/agents/:name/:id",
             "Abort a session's unsettled work, then delete its history, submissions and keys",
             bind(&AgentRoutes::remove), openapi::agent_delete_operation()});
}

}  // namespace sluice::net
