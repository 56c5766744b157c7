// Fuzz target: raw bytes a client sends on the HTTP port, up to the route handler.
//
// Mirrors, in order, on one thread and without sockets:
//   net/http_connection.cpp  Connection::read_request / on_header / on_request /
//                            on_read_error / hand_to_handler: Beast's
//                            request_parser<string_body> with the same header
//                            limit (16 KiB) and body limit (ServerOptions'
//                            default, SLUICE_MAX_BODY_BYTES = 1 MiB), the
//                            Transfer-Encoding rule, then to_http_request
//                            (net/beast_request.hpp);
//                            keep-alive requests pipelined in one input follow.
//   node/node.cpp            the server's handler: front_door_refusal, then
//                            RouteTable::dispatch on the node's routes, added
//                            in the node's order.
//   net/*_routes.cpp         the real handlers of every route that needs no
//                            storage: prompt, dispatch, abort, delete, the
//                            WebSocket upgrades (handshake check, then on_open),
//                            POST /workflows/:name (declarative workflows loaded
//                            from TOML, checked as RunEngine::start checks a
//                            payload), /healthz, /readyz, /metrics,
//                            /admin/agents, /openapi.json. The SessionGateway
//                            has no router (a null actor), so a command is
//                            dropped and its channel answers 503 unavailable.
// Routes whose handler reads storage (submissions, history, runs, admin
// sessions/cluster) keep their method and pattern but get a stand-in that runs
// the same public checks (net/request_validation.hpp, run cursors, states) and
// answers 200 where the storage read would start.
//
// Each answer is checked: exactly one per request, never a 5xx but 503, JSON
// answers valid JSON, and the response head Connection::respond would write
// parses back as HTTP.
#include <utility>  // before Asio (GCC 12 + C++20)

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <caf/actor.hpp>

#include "actors/session_gateway.hpp"
#include "core/metrics.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"
#include "fuzz_runs.hpp"
#include "fuzz_support.hpp"
#include "harness/project_view.hpp"
#include "net/admin_routes.hpp"
#include "net/agent_routes.hpp"
#include "net/beast_request.hpp"
#include "net/front_door.hpp"
#include "net/http_wire.hpp"
#include "net/openapi.hpp"
#include "net/operational_routes.hpp"
#include "net/request_validation.hpp"
#include "net/responses.hpp"
#include "net/route_table.hpp"
#include "net/run_cursor.hpp"
#include "net/submission_channels.hpp"
#include "net/websocket_routes.hpp"
#include "net/workflow_routes.hpp"
#include "persistence/records.hpp"

namespace {

using namespace sluice;
namespace http = boost::beast::http;
using boost::system::error_code;

constexpr uint32_t kHeaderLimit = 16 * 1024;  // net/http_connection.cpp
constexpr size_t kMaxBodyBytes = 1 << 20;     // ServerOptions::max_body_bytes default
constexpr int kMaxRequestsPerInput = 8;

// What the routes need, built once per process.
struct World {
  harness::ProjectView project{fuzz::fuzz_project()};
  std::unique_ptr<fuzz::FuzzRuns> runs = fuzz::fuzz_runs("http_request");
  actors::SessionGateway gateway{caf::actor{}};
  Metrics metrics;
  net::RouteTable routes;
  std::vector<net::FrontDoorPolicy> policies;

  World() {
    // The node's routes, in node/node.cpp's order.
    net::RouteTable real;
    net::add_workflow_routes(real, {runs.get()});
    try {
      net::add_agent_routes(real, {&gateway, nullptr, &project});
    } catch (const nlohmann::json::type_error& error) {
      // Built with clang, net/openapi_operations.cpp agent_history_operation()
      // throws (type_error 308): `json parameters = {session_query()};` is a
      // one-element array with GCC but a copy of the object with clang, and
      // push_back on it throws. The routes added before it (prompt, dispatch,
      // abort, submissions, submission) are in the table; history and delete
      // are added below (docs/fuzzing.md, Findings).
      std::fprintf(stderr, "add_agent_routes threw under clang: %s\n", error.what());
    }
    add_missing_agent_routes(real);
    net::add_websocket_routes(real, {&gateway,
                                     [this](const std::string& name) {
                                       const auto current = project.current();
                                       const auto* found = current->find_agent(name);
                                       return found != nullptr && found->expose_websocket;
                                     },
                                     runs.get(), kMaxBodyBytes});
    net::add_operational_routes(
        real, {[] {
                 return net::Readiness{true, {{"storage", true}, {"lease", true}}};
               },
               &metrics});
    net::add_admin_routes(real, {nullptr, "fuzz-node", false, 15000,
                                 [] { return std::vector<std::string>{"fuzz-node"}; }, &project});
    const auto stand_ins = storage_stand_ins();
    for (net::Route route : real.routes()) {
      auto it = stand_ins.find(route.method + " " + route.pattern);
      if (it != stand_ins.end()) route.handler = it->second;
      routes.add(std::move(route));
    }
    // net/run_routes.cpp add_run_routes (it needs a storage executor and
    // starts a poll thread, so its patterns are repeated here).
    for (const char* pattern : {"/runs/:runId", "/runs/:runId/events", "/runs/:runId/stream",
                                "/admin/runs", "/admin/runs/:runId"}) {
      routes.add(
          {"GET", pattern, "run route (stand-in)", stand_ins.at(std::string("GET ") + pattern)});
    }
    // GET /openapi.json: its document does not depend on the request, and
    // generating it takes about a second under ASan, so the route answers a
    // stand-in; the document is generated once here instead.
    net::OpenApiExposure exposure;
    exposure.http_agents = {"echo", "http-only"};
    exposure.websocket_agents = {"echo", "socket-only"};
    exposure.http_workflows = {"greet", "whole"};
    exposure.websocket_workflows = {"greet"};
    if (!net::openapi_document(routes, exposure).is_object()) {
      fuzz::finding("the OpenAPI document is not an object");
    }
    routes.add({"GET", "/openapi.json", "OpenAPI document (stand-in)",
                stand_ins.at("GET /admin/cluster")});

    // No token, not loopback (the default bind is, but a wider HOST is common);
    // and a locked-down node: token, loopback, one allowed origin.
    policies.push_back({});
    policies.push_back({"fuzz-token", {"https://app.example"}, true});
  }

  // The agent routes add_agent_routes did not get to (see above): history
  // (a storage read: its stand-in comes with the others) and DELETE, which
  // does what AgentRoutes::remove does, through the same public pieces.
  void add_missing_agent_routes(net::RouteTable& table) {
    auto has = [&](const std::string& method, const std::string& pattern) {
      for (const auto& route : table.routes()) {
        if (route.method == method && route.pattern == pattern) return true;
      }
      return false;
    };
    if (!has("GET", "/agents/:name/:id/history")) {
      table.add(
          {"GET", "/agents/:name/:id/history", "A session's durable history in order", nullptr});
    }
    if (!has("DELETE", "/agents/:name/:id")) {
      table.add({"DELETE", "/agents/:name/:id", "Delete a session (AgentRoutes::remove)",
                 [this](net::HttpRequest& request, const net::PathParams& params,
                        std::shared_ptr<net::Responder> responder) {
                   actors::DeleteCommand command;
                   std::optional<PublicError> error;
                   if (!http_agent(params.at("name"))) {
                     error = make_error("agent_not_found", "No HTTP-exposed agent is named '" +
                                                               params.at("name") + "'.");
                   }
                   if (!error) error = net::check_instance_id(params.at("id"));
                   if (!error) {
                     nlohmann::json holder = nlohmann::json::object();
                     if (auto value = request.query_param("session")) holder["session"] = *value;
                     error = net::read_session(holder, command.key.session);
                   }
                   if (error) {
                     responder->respond(net::error_response(*error));
                     return;
                   }
                   command.key.agent = params.at("name");
                   command.key.instance = params.at("id");
                   command.observer = net::make_delete_channel(std::move(responder));
                   gateway.remove(std::move(command));
                 }});
    }
  }

  bool http_agent(const std::string& name) const {
    const auto current = project.current();
    const auto* found = current->find_agent(name);
    return found != nullptr && found->expose_http;
  }

  // The storage-reading handlers: their checks, then 200 where the read starts.
  std::map<std::string, net::RouteHandler> storage_stand_ins() {
    using net::HttpRequest;
    using net::PathParams;
    using net::Responder;
    auto answer = [](Responder& responder, const std::optional<PublicError>& error) {
      responder.respond(error ? net::error_response(*error)
                              : net::json_response(200, {{"storage", "not read while fuzzing"}}));
    };
    // AgentRoutes::resolve, read_session_param and read_page.
    auto resolve = [this](const PathParams& params) -> std::optional<PublicError> {
      if (!http_agent(params.at("name"))) {
        return make_error("agent_not_found",
                          "No HTTP-exposed agent is named '" + params.at("name") + "'.");
      }
      return net::check_instance_id(params.at("id"));
    };
    auto session_and_page = [](const HttpRequest& request) -> std::optional<PublicError> {
      nlohmann::json holder = nlohmann::json::object();
      if (auto value = request.query_param("session")) holder["session"] = *value;
      std::string session;
      if (auto error = net::read_session(holder, session)) return error;
      int64_t after = 0, limit = 100;
      if (auto error = net::read_int_param(request, "after", 0, INT64_MAX, after)) return error;
      return net::read_int_param(request, "limit", 1, 1000, limit);
    };
    std::map<std::string, net::RouteHandler> stand_ins;
    stand_ins["GET /agents/:name/:id/submissions"] =
        [=](HttpRequest& request, const PathParams& params, std::shared_ptr<Responder> responder) {
          std::optional<PublicError> error = resolve(params);
          if (!error) error = session_and_page(request);
          if (!error) {
            if (auto state = request.query_param("state");
                state && !persistence::parse_submission_state(*state)) {
              error = make_error("invalid_request", "Query parameter 'state' is not a state.");
            }
          }
          answer(*responder, error);
        };
    stand_ins["GET /agents/:name/:id/submissions/:submissionId"] =
        [=](HttpRequest&, const PathParams& params, std::shared_ptr<Responder> responder) {
          answer(*responder, resolve(params));
        };
    stand_ins["GET /agents/:name/:id/history"] = [=](HttpRequest& request, const PathParams& params,
                                                     std::shared_ptr<Responder> responder) {
      std::optional<PublicError> error = resolve(params);
      if (!error) error = session_and_page(request);
      answer(*responder, error);
    };
    stand_ins["GET /admin/sessions/:name/:id"] = [=, this](HttpRequest&, const PathParams& params,
                                                           std::shared_ptr<Responder> responder) {
      std::optional<PublicError> error;
      if (!project.current()->agents.contains(params.at("name"))) {
        error = make_error("agent_not_found", "No agent is named '" + params.at("name") + "'.");
      } else {
        error = net::check_instance_id(params.at("id"));
      }
      answer(*responder, error);
    };
    auto plain = [=](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
      answer(*responder, std::nullopt);
    };
    stand_ins["GET /admin/cluster"] = plain;
    stand_ins["GET /runs/:runId"] = plain;
    stand_ins["GET /admin/runs/:runId"] = plain;
    stand_ins["GET /runs/:runId/stream"] = plain;  // parse_last_event_id is private
    stand_ins["GET /runs/:runId/events"] = [=](HttpRequest& request, const PathParams&,
                                               std::shared_ptr<Responder> responder) {
      int64_t after = -1, limit = 100;
      std::optional<PublicError> error =
          net::read_int_param(request, "after", -1, INT64_MAX, after);
      if (!error) error = net::read_int_param(request, "limit", 1, 1000, limit);
      if (!error) (void)split_comma_list(request.query_param("types").value_or(""));
      answer(*responder, error);
    };
    stand_ins["GET /admin/runs"] = [=](HttpRequest& request, const PathParams&,
                                       std::shared_ptr<Responder> responder) {
      int64_t limit = 50;
      std::optional<PublicError> error = net::read_int_param(request, "limit", 1, 1000, limit);
      if (auto status = request.query_param("status");
          status && !error && !persistence::parse_run_status(*status)) {
        error = make_error("invalid_request", "Query parameter 'status' is not a status.");
      }
      if (auto cursor = request.query_param("cursor"); cursor && !error) {
        if (auto decoded = net::decode_run_cursor(*cursor)) {
          // A cursor that decodes must be one the server could have given out.
          auto again = net::decode_run_cursor(net::encode_run_cursor(*decoded));
          if (!again || again->started_at_ms != decoded->started_at_ms ||
              again->run_id != decoded->run_id) {
            fuzz::finding("a run cursor does not survive decode(encode(decode(cursor)))", *cursor);
          }
          // Its run id goes into the storage query (RunFilter::before).
          if (!is_identifier_text(decoded->run_id)) {
            fuzz::note("a decoded run cursor holds NUL or invalid UTF-8 and reaches storage",
                       *cursor);
          }
        } else {
          error = make_error("invalid_request", "Query parameter 'cursor' is not a cursor.");
        }
      }
      answer(*responder, error);
    };
    return stand_ins;
  }
};

World& world() {
  static World* instance = new World();  // never destroyed: libFuzzer exits from anywhere
  return *instance;
}

// What Connection::respond writes must parse back as an HTTP response head.
void check_wire_head(const net::HttpResponse& response, bool keep_alive, bool http10,
                     std::string_view input) {
  net::wire::ResponseHead head{response.status,
                               response.content_type,
                               &response.headers,
                               net::wire::Framing::kContentLength,
                               response.body.size(),
                               keep_alive,
                               http10};
  const std::string bytes = net::wire::encode_head(head);
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // the head alone
  error_code ec;
  parser.put(boost::asio::buffer(bytes), ec);
  if (ec || !parser.is_header_done()) {
    sluice::fuzz::finding("the response head does not parse back (" + ec.message() + "): " + bytes,
                          input);
  }
}

// Feeds the buffered bytes to the parser as Beast's read algorithms do when
// everything has arrived: nullopt when the client's bytes end first (production
// waits, then the client's close or the header timeout closes the connection).
std::optional<error_code> feed(http::request_parser<http::string_body>& parser,
                               std::string_view& rest, bool header_only) {
  parser.eager(!header_only);  // http::read_header: false, http::read: true
  while (header_only ? !parser.is_header_done() : !parser.is_done()) {
    // Nothing left to put: Beast's read would wait for the socket here. (put()
    // on an empty buffer in the body state returns 0 with no error.)
    if (rest.empty()) return std::nullopt;
    error_code ec;
    const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(used);
    if (ec && ec != http::error::need_more) return ec;
    if (used == 0) return std::nullopt;  // need_more with nothing consumed: an incomplete line
  }
  return error_code{};
}

// Connection::on_read_error: the error answer (then linger and close), or
// nothing for a client that left.
int read_error(error_code ec, std::string_view input) {
  std::optional<PublicError> error;
  if (ec == http::error::body_limit) {
    error = make_error("payload_too_large",
                       "The request body exceeds " + std::to_string(kMaxBodyBytes) + " bytes.",
                       "Send a smaller body.");
  } else if (ec == http::error::header_limit) {
    error = make_error("invalid_request", "The request header block exceeds 16 KiB.",
                       "Send fewer or shorter header fields.");
  } else if (ec.category() == make_error_code(http::error::bad_method).category() &&
             ec != http::error::end_of_stream && ec != http::error::partial_message) {
    error = make_error("invalid_request",
                       "The request is not valid HTTP/1.1: " + ec.message() + ".", "");
  }
  if (error) sluice::fuzz::check_response(net::error_response(*error), input);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view rest = input;
  fuzz::current_input = input;

  for (int served = 0; served < kMaxRequestsPerInput && !rest.empty(); ++served) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kMaxBodyBytes);

    std::optional<error_code> ec = feed(parser, rest, true);
    if (!ec) return 0;
    if (*ec) return read_error(*ec, input);
    const auto& head = parser.get();
    if (head.find(http::field::transfer_encoding) != head.end() && !parser.chunked()) {
      // Connection::on_header: 400, then linger and close.
      fuzz::check_response(net::error_response(make_error(
                               "invalid_request", "Transfer-Encoding must end in chunked.",
                               "Send Content-Length, or Transfer-Encoding: chunked alone.")),
                           input);
      return 0;
    }
    if (!parser.is_done()) {
      ec = feed(parser, rest, false);
      if (!ec) return 0;
      if (*ec) return read_error(*ec, input);
    }

    const auto& message = parser.get();
    const bool keep_alive = message.keep_alive();
    const bool http10 = message.version() < 11;
    net::HttpRequest request = net::to_http_request(parser.release());

    // node/node.cpp: the front door of the node's policy, then the routes.
    // Both policies are asked; the open one decides whether the routes run.
    if (fuzz::verbose()) {
      std::fprintf(stderr, "request %s %s ? %s (%zu body bytes)\n", request.method.c_str(),
                   request.path.c_str(), request.query.c_str(), request.body.size());
    }
    auto responder = std::make_shared<fuzz::RecordingResponder>(input, !http10);
    for (size_t i = 1; i < w.policies.size(); ++i) {
      if (auto refusal = net::front_door_refusal(request, w.policies[i])) {
        fuzz::check_response(*refusal, input);
      }
    }
    if (auto refusal = net::front_door_refusal(request, w.policies[0])) {
      responder->respond(std::move(*refusal));
    } else {
      w.routes.dispatch(std::move(request), responder);
    }
    if (responder->answers != 1) {
      fuzz::finding("a request got " + std::to_string(responder->answers) + " answers", input);
    }
    for (const auto& response : responder->responses) {
      check_wire_head(response, keep_alive, http10, input);
    }
    // A socket takes the connection over (bytes after the handshake close it);
    // otherwise the connection reads on only when kept alive.
    if (responder->upgraded || !keep_alive) return 0;
  }
  return 0;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::err);  // "dropping response header field" warnings are noise
  world();
  return 0;
}
