#include "net/openapi.hpp"

#include <cctype>
#include <iterator>
#include <set>
#include <string_view>
#include <utility>

#include "net/openapi_operations.hpp"
#include "net/openapi_schemas.hpp"
#include "net/responses.hpp"

namespace sluice::net {
namespace {

using nlohmann::json;

// Keep in step with `sluice --version` (apps/sluice_main.cpp).
constexpr const char* kVersion = SLUICE_VERSION;

std::vector<std::string> split_pattern(std::string_view pattern) {
  std::vector<std::string> segments;
  pattern.remove_prefix(1);
  while (true) {
    const size_t slash = pattern.find('/');
    segments.emplace_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_param(const std::string& segment) {
  return segment.size() > 1 && segment[0] == ':';
}

// A name as a literal path segment: what a client must send for it.
std::string percent_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "slow-echo" -> "SlowEcho": the words of a segment for an operationId.
std::string camel_words(std::string_view text) {
  std::string out;
  bool start = true;
  for (const unsigned char c : text) {
    if (!std::isalnum(c)) {
      start = true;
      continue;
    }
    out += start ? static_cast<char>(std::toupper(c)) : static_cast<char>(c);
    start = false;
  }
  return out;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

const char* param_description(const std::string& name) {
  if (name == "id") {
    return "The agent instance id: any non-empty string up to 512 bytes, percent-encoded "
           "(an encoded '/' stays inside it).";
  }
  if (name == "name") return "An agent name.";
  if (name == "runId") return "workflow:<name>:<ULID>, percent-encoded.";
  if (name == "submissionId") return "sub_<ULID>";
  return "A path parameter.";
}

struct Tag {
  const char* segment;  // first path segment it covers
  const char* name;
  const char* description;
};

constexpr Tag kTags[] = {
    {"agents", "agents", "Prompting agents and reading their sessions' records."},
    {"workflows", "workflows", "Starting workflow runs."},
    {"runs", "runs", "Workflow runs and their events."},
    {"admin", "admin", "Inspecting this node, its agents, runs and the cluster."},
    {"", "operational", "Health, readiness, metrics and this document."},
};

const Tag& tag_for(const std::vector<std::string>& segments) {
  for (const Tag& tag : kTags) {
    if (segments.front() == tag.segment) return tag;
  }
  return kTags[std::size(kTags) - 1];
}

bool has_2xx(const json& responses) {
  for (const auto& [status, response] : responses.items()) {
    if (status.size() == 3 && status[0] == '2') return true;
  }
  return false;
}

// Every $ref under `node`, as component schema names.
void collect_refs(const json& node, std::set<std::string>& names) {
  if (node.is_object()) {
    if (auto ref = node.find("$ref"); ref != node.end() && ref->is_string()) {
      static constexpr std::string_view kPrefix = "#/components/schemas/";
      const std::string& target = ref->get_ref<const std::string&>();
      if (target.starts_with(kPrefix)) names.insert(target.substr(kPrefix.size()));
    }
    for (const auto& [key, value] : node.items()) collect_refs(value, names);
  } else if (node.is_array()) {
    for (const auto& value : node) collect_refs(value, names);
  }
}

// The component schemas `paths` reference, directly or through each other.
json referenced_schemas(const json& paths) {
  const json all = openapi::component_schemas();
  std::set<std::string> names;
  collect_refs(paths, names);
  json used = json::object();
  while (used.size() < names.size()) {
    for (const auto& name : names) {
      if (used.contains(name)) continue;
      const json& schema = all.at(name);  // an unknown name is a bug in a fragment
      used[name] = schema;
      collect_refs(schema, names);
      break;  // `names` may have grown: restart the walk
    }
  }
  return used;
}

class Generator {
 public:
  Generator(const OpenApiExposure& exposure, const OpenApiOptions& options)
      : exposure_(exposure), options_(options) {}

  void add(const Route& route) {
    std::vector<std::string> segments = split_pattern(route.pattern);
    if (const auto* names = per_name_family(segments, route.transport)) {
      for (const auto& name : *names) {
        std::vector<std::string> named = segments;
        named[1] = percent_encode(name);
        emit(route, named);
      }
      return;
    }
    emit(route, segments);
  }

  json document() && {
    json tags = json::array();
    for (const Tag& tag : kTags) {
      if (used_tags_.contains(tag.name)) {
        tags.push_back({{"name", tag.name}, {"description", tag.description}});
      }
    }
    json components = {{"schemas", referenced_schemas(paths_)}};
    json document = {
        {"openapi", "3.1.0"},
        {"info",
         {{"title", "Sluice"},
          {"version", kVersion},
          {"description",
           "Durable agent server. Every error answers the PublicError envelope; a known path "
           "with another method answers 405 method_not_allowed with Allow, an unknown path "
           "404 route_not_found."}}},
        {"servers", {{{"url", options_.server_url}}}},
        {"tags", std::move(tags)},
        {"paths", std::move(paths_)},
    };
    if (options_.bearer_auth) {
      components["securitySchemes"] = {{"bearerAuth",
                                        {{"type", "http"},
                                         {"scheme", "bearer"},
                                         {"description", "The server's SLUICE_AUTH_TOKEN."}}}};
      document["security"] = {{{"bearerAuth", json::array()}}};
    } else {
      document["security"] = json::array();
    }
    document["components"] = std::move(components);
    return document;
  }

 private:
  // The names a route is listed for, when it is one of a named agent or workflow.
  const std::vector<std::string>* per_name_family(const std::vector<std::string>& segments,
                                                  RouteTransport transport) const {
    if (segments.size() < 2 || segments[1] != ":name") return nullptr;
    const bool http = transport == RouteTransport::http;
    if (segments[0] == "agents") {
      return http ? &exposure_.http_agents : &exposure_.websocket_agents;
    }
    if (segments[0] == "workflows") {
      return http ? &exposure_.http_workflows : &exposure_.websocket_workflows;
    }
    return nullptr;
  }

  void emit(const Route& route, const std::vector<std::string>& segments) {
    std::string path;
    std::string id = lower(route.method);
    json parameters = json::array();
    for (const auto& segment : segments) {
      if (is_param(segment)) {
        const std::string name = segment.substr(1);
        path += "/{" + name + "}";
        id += "By" + camel_words(name);
        parameters.push_back({{"name", name},
                              {"in", "path"},
                              {"required", true},
                              {"description", param_description(name)},
                              {"schema", {{"type", "string"}, {"minLength", 1}}}});
      } else {
        path += "/" + segment;
        id += camel_words(segment);
      }
    }
    json& operation = paths_[path][lower(route.method)];
    if (!operation.is_null()) return;  // dispatch never reaches a second route here either

    const Tag& tag = tag_for(segments);
    used_tags_.insert(tag.name);
    operation = {{"operationId", unique_id(std::move(id))},
                 {"summary", route.summary},
                 {"tags", {tag.name}}};
    if (route.transport == RouteTransport::websocket) {
      parameters.push_back({{"name", "Upgrade"},
                            {"in", "header"},
                            {"required", true},
                            {"description", "A WebSocket handshake (RFC 6455)."},
                            {"schema", {{"type", "string"}, {"enum", {"websocket"}}}}});
    }
    if (route.operation.is_object()) {
      for (const auto& [key, value] : route.operation.items()) {
        if (key == "parameters") {
          for (const auto& parameter : value) parameters.push_back(parameter);
        } else if (key != "operationId") {  // derived: it must stay unique per expansion
          operation[key] = value;
        }
      }
    }
    if (!parameters.empty()) operation["parameters"] = std::move(parameters);
    complete_responses(route, operation);
  }

  void complete_responses(const Route& route, json& operation) const {
    json& responses = operation["responses"];
    if (route.transport == RouteTransport::websocket && !responses.contains("101")) {
      responses["101"] = {{"description",
                           "Switching Protocols: the WebSocket protocol of "
                           "PROTOCOL.md follows."}};
    }
    if (route.transport == RouteTransport::http && !has_2xx(responses)) {
      responses["200"] = openapi::json_response("Success.", {{"type", "object"}});
    }
    const bool open = operation.contains("security") && operation["security"].empty();
    if (options_.bearer_auth && !open && !responses.contains("401")) {
      responses["401"] = openapi::error_response("unauthorized: a valid bearer token is required.");
    }
    if (!responses.contains("default")) {
      responses["default"] = openapi::error_response(
          "Any other error, e.g. 500 internal_error, in the error envelope.");
    }
  }

  std::string unique_id(std::string id) {
    std::string candidate = id;
    for (int n = 2; !operation_ids_.insert(candidate).second; ++n) {
      candidate = id + std::to_string(n);
    }
    return candidate;
  }

  const OpenApiExposure& exposure_;
  const OpenApiOptions& options_;
  json paths_ = json::object();
  std::set<std::string> operation_ids_;
  std::set<std::string> used_tags_;
};

}  // namespace

json openapi_document(const RouteTable& table, const OpenApiExposure& exposure,
                      const OpenApiOptions& options) {
  Generator generator(exposure, options);
  for (const Route& route : table.routes()) generator.add(route);
  return std::move(generator).document();
}

void add_openapi_route(RouteTable& table, OpenApiDeps deps) {
  table.add({"GET", "/openapi.json", "This OpenAPI document",
             [&table, deps = std::move(deps)](HttpRequest&, const PathParams&,
                                              std::shared_ptr<Responder> responder) {
               responder->respond(
                   json_response(200, openapi_document(table, deps.exposure(), deps.options)));
             },
             openapi::openapi_document_operation()});
}

}  // namespace sluice::net
