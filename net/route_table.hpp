#pragma once
// The one table of public routes: the server dispatches on it, and the OpenAPI
// document is generated from it. Unknown paths answer 404 route_not_found; a
// known path with another method answers 405 method_not_allowed with Allow.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_types.hpp"

namespace sluice::net {

// Decoded path parameters by name (":name" in the pattern).
using PathParams = std::map<std::string, std::string>;
using RouteHandler =
    std::function<void(HttpRequest&, const PathParams&, std::shared_ptr<Responder>)>;

// Which exposure a route serves: /agents/:name and /workflows/:name routes are
// documented once per agent or workflow exposed on that transport.
enum class RouteTransport { http, websocket };

struct Route {
  std::string method;
  std::string pattern;  // "/agents/:name/:id/dispatch"
  std::string summary;  // one line, for the OpenAPI document
  RouteHandler handler;
  // What the OpenAPI document cannot derive from the pattern: an Operation
  // Object fragment (requestBody, responses, query and header parameters,
  // description, "security": [] for an unauthenticated route). The generator
  // adds the path parameters, operationId, summary, tags and the error
  // envelope; null documents a generic JSON 200 (a 101 handshake for a
  // websocket route). See net/openapi_schemas.hpp and net/openapi_operations.hpp.
  nlohmann::json operation = nullptr;
  // websocket: the GET + Upgrade handshake of an agent or workflow socket.
  RouteTransport transport = RouteTransport::http;
};

class RouteTable {
 public:
  void add(Route route);
  // Matches segment by segment (each segment percent-decoded after splitting, so
  // an encoded '/' stays inside its parameter) and calls the handler, or answers
  // 404/405 itself. Routes are tried in the order they were added. A segment
  // with a malformed escape answers 400 invalid_request; a handler that throws
  // answers 500 internal_error (the exception text is logged, never sent).
  void dispatch(HttpRequest request, std::shared_ptr<Responder> responder) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> patterns_;  // routes_[i].pattern split on '/'
};

}  // namespace sluice::net
