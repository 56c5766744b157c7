#pragma once
// GET /openapi.json: an OpenAPI 3.1 document generated from the route table the
// server dispatches on, so the two cannot disagree. Routes under /agents/:name
// and /workflows/:name are listed once per agent or workflow exposed on the
// route's transport, with the name in the path (/agents/echo/{id}); an agent
// or workflow not exposed there does not appear. Every other route appears
// once, ":param" written "{param}".
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/route_table.hpp"

namespace sluice::net {

// Names exposed on each transport at the time of asking. (The {} initialisers
// let designated initialisation name only some lists under -Wextra.)
struct OpenApiExposure {
  std::vector<std::string> http_agents{};
  std::vector<std::string> websocket_agents{};
  std::vector<std::string> http_workflows{};
  std::vector<std::string> websocket_workflows{};
};

struct OpenApiOptions {
  bool bearer_auth = false;      // every route requires a bearer token unless it says otherwise
  std::string server_url = "/";  // the mount prefix the routes are relative to
};

struct OpenApiDeps {
  // Called for every request: definitions can be reloaded while serving.
  std::function<OpenApiExposure()> exposure;
  OpenApiOptions options;
};

nlohmann::json openapi_document(const RouteTable& table, const OpenApiExposure& exposure,
                                const OpenApiOptions& options = {});

// Registers GET /openapi.json. The document covers the routes the table holds
// when it is asked for, this one and those added later included.
void add_openapi_route(RouteTable& table, OpenApiDeps deps);

}  // namespace sluice::net
