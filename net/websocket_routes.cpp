#include "net/websocket_routes.hpp"

#include "net/openapi_schemas.hpp"
#include "net/request_validation.hpp"
#include "net/responses.hpp"
#include "net/websocket_agent.hpp"
#include "net/websocket_workflow.hpp"

namespace sluice::net {
namespace {

nlohmann::json socket_operation(const char* description, const char* not_found) {
  return {{"description", description},
          {"responses",
           {{"400", openapi::error_response("invalid_request: not a WebSocket handshake.")},
            {"404", openapi::error_response(not_found)}}}};
}

// Up to twice the frame limit a frame is read and answered payload_too_large;
// past that the socket closes (1009), so a flood cannot fill memory.
size_t message_limit(const WebSocketRouteDeps& deps) {
  return deps.max_frame_bytes * 2;
}

void agent_socket(const WebSocketRouteDeps& deps, HttpRequest& request, const PathParams& params,
                  const std::shared_ptr<Responder>& responder) {
  const std::string& name = params.at("name");
  if (!deps.agent_exposed_on_websocket(name)) {
    responder->respond(error_response(
        make_error("agent_not_found", "No WebSocket-exposed agent is named '" + name + "'.")));
    return;
  }
  if (auto error = check_instance_id(params.at("id"))) {
    responder->respond(error_response(*error));
    return;
  }
  AgentSocketTarget target{deps.gateway, name, params.at("id"), deps.max_frame_bytes};
  responder->upgrade_to_websocket(
      std::move(request),
      {message_limit(deps), [target](std::shared_ptr<WebSocket> socket) {
         return open_agent_socket(std::move(socket), target);
       }});
}

void workflow_socket(const WebSocketRouteDeps& deps, HttpRequest& request,
                     const PathParams& params, const std::shared_ptr<Responder>& responder) {
  const std::string& name = params.at("name");
  auto definition = deps.runs ? deps.runs->find(name) : nullptr;
  if (!definition || !definition->expose_websocket) {
    responder->respond(error_response(make_error(
        "workflow_not_found", "No WebSocket-exposed workflow is named '" + name + "'.")));
    return;
  }
  WorkflowSocketTarget target{deps.runs, name, deps.max_frame_bytes};
  responder->upgrade_to_websocket(
      std::move(request),
      {message_limit(deps), [target](std::shared_ptr<WebSocket> socket) {
         return open_workflow_socket(std::move(socket), target);
       }});
}

}  // namespace

void add_websocket_routes(RouteTable& table, WebSocketRouteDeps deps) {
  table.add({"GET", "/agents/:name/:id", "Prompt an agent over a WebSocket (protocol version 1)",
             [deps](HttpRequest& request, const PathParams& params,
                    std::shared_ptr<Responder> responder) {
               agent_socket(deps, request, params, responder);
             },
             socket_operation(
                 "Client frames: prompt {version, type, requestId, message, session?} and ping. "
                 "Server frames: ready, then per prompt started, event*, result or error; pong.",
                 "agent_not_found: no agent of that name is exposed on WebSocket."),
             RouteTransport::websocket});
  table.add({"GET", "/workflows/:name", "Invoke a workflow over a WebSocket (protocol version 1)",
             [deps](HttpRequest& request, const PathParams& params,
                    std::shared_ptr<Responder> responder) {
               workflow_socket(deps, request, params, responder);
             },
             socket_operation(
                 "Client frames: one invoke {version, type, requestId, payload?}, and ping. "
                 "Server frames: ready, started (runId), event*, then result or error, then "
                 "the socket closes.",
                 "workflow_not_found: no workflow of that name is exposed on WebSocket."),
             RouteTransport::websocket});
}

}  // namespace sluice::net
