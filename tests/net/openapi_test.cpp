// The OpenAPI generator on real route registrations: templating, per-name
// expansion, exposure filtering, unique operationIds, fragments, security.
// (tests/e2e/openapi_test.cpp validates the served document with Redocly.)
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "net/admin_routes.hpp"
#include "net/agent_routes.hpp"
#include "net/openapi.hpp"
#include "net/operational_routes.hpp"
#include "net/route_table.hpp"

using namespace sluice::net;
using nlohmann::json;

namespace {

RouteHandler never_called() {
  return [](HttpRequest&, const PathParams&, std::shared_ptr<Responder>) {
    FAIL("the generator must not call handlers");
  };
}

// The routes the node registers today (their services are not needed: the
// generator never calls a handler), plus a route without details.
RouteTable real_routes() {
  RouteTable table;
  add_agent_routes(table, {});
  add_operational_routes(table, {});
  add_admin_routes(table, {});
  table.add({"GET", "/runs/:runId/events", "Run events", never_called()});
  return table;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "/runs/:runId" -> "/runs/{runId}"; under /agents/:name, the agent's name.
std::string documented_path(const std::string& pattern, const std::string& agent) {
  std::string path;
  std::istringstream segments(pattern.substr(1));
  for (std::string segment; std::getline(segments, segment, '/');) {
    path += '/';
    if (path == "/agents/" && segment == ":name") {
      path += agent;
    } else if (segment.starts_with(':')) {
      path += '{';
      path.append(segment, 1);
      path += '}';
    } else {
      path += segment;
    }
  }
  return path;
}

std::vector<std::string> operation_ids(const json& document) {
  std::vector<std::string> ids;
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, operation] : item.items()) ids.push_back(operation["operationId"]);
  }
  return ids;
}

void collect_refs(const json& node, std::set<std::string>& refs) {
  if (node.is_object()) {
    if (node.contains("$ref")) refs.insert(node["$ref"].get<std::string>());
    for (const auto& [key, value] : node.items()) collect_refs(value, refs);
  } else if (node.is_array()) {
    for (const auto& value : node) collect_refs(value, refs);
  }
}

struct RecordingResponder : Responder {
  std::vector<HttpResponse> responses;
  void respond(HttpResponse response) override { responses.push_back(std::move(response)); }
  void open_stream(Headers) override {}
  void stream_write(std::string) override {}
  void close_stream() override {}
  bool client_gone() const override { return false; }
};

HttpResponse get(const RouteTable& table, const std::string& method, const std::string& path) {
  auto responder = std::make_shared<RecordingResponder>();
  HttpRequest request;
  request.method = method;
  request.path = path;
  table.dispatch(std::move(request), responder);
  REQUIRE(responder->responses.size() == 1);
  return responder->responses.front();
}

}  // namespace

TEST_CASE("every route of the table is documented, :param written {param}", "[net][openapi]") {
  const RouteTable table = real_routes();
  json document = openapi_document(table, {.http_agents = {"echo"}});
  CHECK(document["openapi"] == "3.1.0");
  CHECK(document["servers"] == json::array({{{"url", "/"}}}));

  for (const Route& route : table.routes()) {
    const std::string path = documented_path(route.pattern, "echo");
    INFO(route.method << " " << route.pattern << " -> " << path);
    REQUIRE(document["paths"].contains(path));
    json& operation = document["paths"][path][lower(route.method)];
    REQUIRE(operation.is_object());
    CHECK(operation["summary"] == route.summary);
    CHECK(operation["responses"].contains("default"));
  }

  json& events = document["paths"]["/runs/{runId}/events"]["get"];
  REQUIRE(events["parameters"].size() == 1);
  CHECK(events["parameters"][0] ==
        json({{"name", "runId"},
              {"in", "path"},
              {"required", true},
              {"description", "workflow:<name>:<ULID>, percent-encoded."},
              {"schema", {{"type", "string"}, {"minLength", 1}}}}));
  // A route without details still gets a JSON 200 and the error envelope.
  CHECK(events["responses"]["200"]["content"].contains("application/json"));
  CHECK(events["responses"]["default"]["content"]["application/json"]["schema"]["$ref"] ==
        "#/components/schemas/PublicError");
  CHECK(events["tags"] == json{"runs"});

  json& sessions = document["paths"]["/admin/sessions/{name}/{id}"]["get"];
  CHECK(sessions["parameters"][0]["name"] == "name");
  CHECK(sessions["parameters"][1]["name"] == "id");
}

TEST_CASE("agent and workflow routes are listed once per name exposed on their transport",
          "[net][openapi]") {
  RouteTable table;
  table.add({"POST", "/agents/:name/:id", "prompt", never_called()});
  table.add({"GET", "/agents/:name/:id", "agent socket", never_called(), nullptr,
             RouteTransport::websocket});
  table.add({"POST", "/workflows/:name", "start", never_called()});
  table.add({"GET", "/workflows/:name", "workflow socket", never_called(), nullptr,
             RouteTransport::websocket});
  table.add({"GET", "/admin/sessions/:name/:id", "not an agent route", never_called()});
  json paths = openapi_document(table, {.http_agents = {"a", "b"},
                                        .websocket_agents = {"b", "c"},
                                        .http_workflows = {"w"},
                                        .websocket_workflows = {}})["paths"];

  std::vector<std::string> keys;
  for (const auto& [path, item] : paths.items()) keys.push_back(path);
  CHECK(keys == std::vector<std::string>{"/admin/sessions/{name}/{id}", "/agents/a/{id}",
                                         "/agents/b/{id}", "/agents/c/{id}", "/workflows/w"});

  CHECK(paths["/agents/a/{id}"].contains("post"));
  CHECK_FALSE(paths["/agents/a/{id}"].contains("get"));
  CHECK(paths["/agents/b/{id}"].contains("post"));
  CHECK(paths["/agents/b/{id}"].contains("get"));
  CHECK_FALSE(paths["/agents/c/{id}"].contains("post"));
  CHECK(paths["/agents/c/{id}"].contains("get"));
  CHECK(paths["/workflows/w"].contains("post"));
  CHECK_FALSE(paths["/workflows/w"].contains("get"));
  CHECK(paths["/admin/sessions/{name}/{id}"].contains("get"));

  // The name is in the path: only {id} is a parameter. A socket needs the handshake.
  json& socket = paths["/agents/c/{id}"]["get"];
  REQUIRE(socket["parameters"].size() == 2);
  CHECK(socket["parameters"][0]["name"] == "id");
  CHECK(socket["parameters"][1]["name"] == "Upgrade");
  CHECK(socket["parameters"][1]["in"] == "header");
  CHECK(socket["responses"].contains("101"));
  CHECK_FALSE(socket["responses"].contains("200"));
  CHECK(paths["/workflows/w"]["post"]["parameters"].is_null());

  // Nothing exposed: no agent or workflow route at all.
  json bare = openapi_document(table, {})["paths"];
  CHECK(bare.size() == 1);
  CHECK(bare.contains("/admin/sessions/{name}/{id}"));
}

TEST_CASE("names are percent-encoded in paths and operationIds stay unique", "[net][openapi]") {
  const RouteTable table = real_routes();
  json document = openapi_document(table, {.http_agents = {"slow-echo", "slow_echo", "slow echo"}});
  CHECK(document["paths"].contains("/agents/slow%20echo/{id}/dispatch"));
  CHECK(document["paths"].contains("/agents/slow-echo/{id}/dispatch"));

  const auto ids = operation_ids(document);
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  CHECK(document["paths"]["/agents/slow-echo/{id}"]["post"]["operationId"] ==
        "postAgentsSlowEchoById");
  CHECK(document["paths"]["/agents/slow_echo/{id}"]["post"]["operationId"] ==
        "postAgentsSlowEchoById2");
  CHECK(document["paths"]["/healthz"]["get"]["operationId"] == "getHealthz");
}

TEST_CASE("a route's fragment is merged with what the generator derives", "[net][openapi]") {
  RouteTable table;
  table.add({"POST",
             "/things/:thing",
             "make one",
             never_called(),
             {{"operationId", "ignored"},
              {"description", "Makes a thing."},
              {"parameters", {{{"name", "q"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
              {"responses", {{"202", {{"description", "Accepted."}}}}}}});
  json operation = openapi_document(table, {})["paths"]["/things/{thing}"]["post"];
  CHECK(operation["operationId"] == "postThingsByThing");
  CHECK(operation["description"] == "Makes a thing.");
  REQUIRE(operation["parameters"].size() == 2);
  CHECK(operation["parameters"][0]["name"] == "thing");  // path parameters first
  CHECK(operation["parameters"][1]["name"] == "q");
  CHECK(operation["responses"]["202"]["description"] == "Accepted.");
  CHECK_FALSE(operation["responses"].contains("200"));  // it has its own success answer
  CHECK(operation["responses"].contains("default"));
  CHECK(operation["tags"] == json{"operational"});
}

TEST_CASE("a configured token declares bearer auth on every route but /healthz", "[net][openapi]") {
  const RouteTable table = real_routes();
  json open = openapi_document(table, {.http_agents = {"echo"}});
  CHECK(open["security"] == json::array());
  CHECK_FALSE(open["components"].contains("securitySchemes"));
  CHECK_FALSE(open["paths"]["/admin/agents"]["get"]["responses"].contains("401"));

  json secured = openapi_document(table, {.http_agents = {"echo"}}, {.bearer_auth = true});
  CHECK(secured["security"] == json::array({{{"bearerAuth", json::array()}}}));
  CHECK(secured["components"]["securitySchemes"]["bearerAuth"] ==
        json({{"type", "http"},
              {"scheme", "bearer"},
              {"description", "The server's SLUICE_AUTH_TOKEN."}}));
  for (const auto& [path, item] : secured["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      INFO(method << " " << path);
      const bool healthz = path == "/healthz";
      CHECK(operation["responses"].contains("401") == !healthz);
      CHECK(operation.contains("security") == healthz);
    }
  }
}

TEST_CASE("components hold exactly the schemas the paths reference", "[net][openapi]") {
  const RouteTable table = real_routes();
  json with_agents = openapi_document(table, {.http_agents = {"echo"}});
  std::set<std::string> refs;
  collect_refs(with_agents, refs);
  std::set<std::string> defined;
  for (const auto& [name, schema] : with_agents["components"]["schemas"].items()) {
    defined.insert("#/components/schemas/" + name);
  }
  CHECK(refs == defined);
  CHECK(defined.contains("#/components/schemas/SubmissionRecord"));
  CHECK(defined.contains("#/components/schemas/PublicErrorBody"));  // through PublicError

  json without_agents = openapi_document(table, {});
  CHECK_FALSE(without_agents["components"]["schemas"].contains("SubmissionRecord"));
  CHECK(without_agents["components"]["schemas"].contains("PublicError"));
}

TEST_CASE("GET /openapi.json documents the table as it is at each request", "[net][openapi]") {
  RouteTable table;
  std::vector<std::string> exposed = {"one"};
  add_openapi_route(table, {[&exposed] { return OpenApiExposure{.http_agents = exposed}; },
                            {.bearer_auth = false, .server_url = "/api"}});
  table.add({"POST", "/agents/:name/:id", "prompt", never_called()});

  HttpResponse first = get(table, "GET", "/openapi.json");
  CHECK(first.status == 200);
  CHECK(first.content_type == "application/json");
  json document = json::parse(first.body);
  CHECK(document["servers"][0]["url"] == "/api");
  CHECK(document["paths"].contains("/agents/one/{id}"));
  CHECK(document["paths"]["/openapi.json"]["get"]["operationId"] == "getOpenapiJson");

  exposed = {"two"};  // definitions reloaded
  document = json::parse(get(table, "GET", "/openapi.json").body);
  CHECK_FALSE(document["paths"].contains("/agents/one/{id}"));
  CHECK(document["paths"].contains("/agents/two/{id}"));

  const HttpResponse wrong_method = get(table, "POST", "/openapi.json");
  CHECK(wrong_method.status == 405);
  CHECK(json::parse(wrong_method.body)["error"]["type"] == "method_not_allowed");
}
