// GET /openapi.json of the real `sluice serve`: a real OpenAPI linter (Redocly
// CLI, pinned in tests/tools/openapi, installed by scripts/install-test-tools.sh)
// must accept it; it must list exactly the exposed agents; and every operation
// it lists must reach a route of the server, with the security it declares.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

const std::filesystem::path kTools =
    std::filesystem::path(SLUICE_SOURCE_DIR) / "tests/tools/openapi";

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

ProcessOptions serve(const TempDir& dir, const std::filesystem::path& project, uint16_t port,
                     std::map<std::string, std::string> env = {}) {
  env["PORT"] = std::to_string(port);
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "serve", "--project", project.string()};
  options.env = std::move(env);
  options.stdout_path = dir / "serve.out";
  options.stderr_path = dir / "serve.err";
  return options;
}

json fetch_document(HttpClient& client, const HeaderList& headers = {}) {
  const Response response = client.request("GET", "/openapi.json", "", headers);
  REQUIRE(response.status == 200);
  CHECK(response.header("Content-Type") == "application/json");
  return response.json();
}

// Lints the document with the pinned Redocly CLI; a problem fails the test
// with the linter's report.
void require_valid(const TempDir& dir, const json& document, const std::string& name) {
  if (!std::filesystem::exists(kTools / "node_modules/@redocly/cli/bin/cli.js")) {
    FAIL("The OpenAPI validator is not installed: run scripts/install-test-tools.sh");
  }
  const std::filesystem::path file = dir / (name + ".openapi.json");
  std::ofstream(file) << document.dump(2);
  ProcessOptions options;
  options.argv = {"/bin/sh", (kTools / "validate.sh").string(), file.string()};
  options.stdout_path = dir / (name + ".lint.out");
  options.stderr_path = dir / (name + ".lint.err");
  Process lint(std::move(options));
  const auto status = lint.wait(120s);
  REQUIRE(status);
  INFO(lint.stdout_text() << lint.stderr_text());
  REQUIRE(status->exited_with(0));
}

bool has_operation(const json& document, const std::string& path, const std::string& method) {
  const json& paths = document.at("paths");
  return paths.contains(path) && paths.at(path).contains(method);
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// The documented path with a placeholder for each parameter.
std::string concrete(const std::string& path) {
  std::string out;
  bool in_parameter = false;
  for (const char c : path) {
    if (c == '{') {
      in_parameter = true;
      out += 'p';
    } else if (c == '}') {
      in_parameter = false;
    } else if (!in_parameter) {
      out += c;
    }
  }
  return out;
}

std::string error_type(const Response& response) {
  const json body = json::parse(response.body, nullptr, false);
  return body.is_object() && body.contains("error") ? body["error"].value("type", "") : "";
}

// Every documented operation reaches a route: no 404 route_not_found and no
// 405 (bodies are empty, so nothing is admitted). With `token`, also the
// security each declares: 401 without the token unless it says `security: []`.
void check_operations_match_routes(HttpClient& client, const json& document,
                                   const std::string& token = "") {
  int checked = 0;
  for (const auto& [path, item] : document.at("paths").items()) {
    for (const auto& [method, operation] : item.items()) {
      INFO(upper(method) << " " << path);
      const HeaderList auth = {{"Authorization", "Bearer " + token}};
      const Response answer =
          client.request(upper(method), concrete(path), "", token.empty() ? HeaderList{} : auth);
      CHECK(error_type(answer) != "route_not_found");
      CHECK(answer.status != 405);
      if (!token.empty()) {
        const bool open = operation.contains("security") && operation["security"].empty();
        CHECK((client.request(upper(method), concrete(path)).status == 401) == !open);
      }
      ++checked;
    }
  }
  CHECK(checked > 10);
}

}  // namespace

TEST_CASE("sluice serve on examples/ serves an OpenAPI document that Redocly accepts",
          "[openapi]") {
  TempDir dir;
  const uint16_t port = free_port();
  Process server(serve(dir, std::filesystem::path(SLUICE_SOURCE_DIR) / "examples", port));
  REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  const json document = fetch_document(client);
  require_valid(dir, document, "examples");

  for (const std::string agent : {"echo", "scripted-tools", "slow-echo"}) {
    const std::string base = "/agents/" + agent + "/{id}";
    INFO(base);
    CHECK(has_operation(document, base, "post"));
    CHECK(has_operation(document, base + "/dispatch", "post"));
    CHECK(has_operation(document, base + "/abort", "post"));
    CHECK(has_operation(document, base + "/submissions", "get"));
    CHECK(has_operation(document, base + "/submissions/{submissionId}", "get"));
    CHECK(has_operation(document, base + "/history", "get"));
  }
  for (const auto& [path, item] : document.at("paths").items()) {
    CHECK_FALSE(path.starts_with("/agents/{name}"));
  }
  CHECK(has_operation(document, "/openapi.json", "get"));
  CHECK(has_operation(document, "/admin/agents", "get"));
  check_operations_match_routes(client, document);

  // The answers around it are unchanged.
  const Response wrong_method = client.request("POST", "/openapi.json");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.header("Allow") == "GET");
  CHECK(error_type(wrong_method) == "method_not_allowed");
  const Response unknown = client.request("GET", "/openapi.json/more");
  CHECK(unknown.status == 404);
  CHECK(error_type(unknown) == "route_not_found");
}

TEST_CASE("the OpenAPI document lists only the agents exposed over HTTP", "[openapi]") {
  TempDir dir;
  write(dir / "project/agents/public.toml", "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  write(dir / "project/agents/hidden.toml", "model = \"sluice/echo\"\n");
  write(dir / "project/agents/sockets.toml", "model = \"sluice/echo\"\nexpose = [\"websocket\"]\n");
  const uint16_t port = free_port();
  Process server(serve(dir, dir / "project", port));
  REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  const json document = fetch_document(client);
  require_valid(dir, document, "exposure");

  CHECK(has_operation(document, "/agents/public/{id}", "post"));
  CHECK(has_operation(document, "/agents/public/{id}/history", "get"));
  for (const auto& [path, item] : document.at("paths").items()) {
    INFO(path);
    CHECK(path.find("hidden") == std::string::npos);
    if (path.starts_with("/agents/sockets/")) {
      // At most its WebSocket handshake: none of the HTTP agent routes.
      CHECK(path == "/agents/sockets/{id}");
      CHECK(item.size() == 1);
      CHECK(item.contains("get"));
    }
  }
  check_operations_match_routes(client, document);

  const HeaderList json_body = {{"Content-Type", "application/json"}};
  const Response hidden =
      client.request("POST", "/agents/hidden/x", R"({"message":"hi"})", json_body);
  CHECK(hidden.status == 404);
  CHECK(error_type(hidden) == "agent_not_found");
}

TEST_CASE("with SLUICE_AUTH_TOKEN the document declares the bearer auth the server enforces",
          "[openapi]") {
  TempDir dir;
  write(dir / "project/agents/echo.toml", "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  const uint16_t port = free_port();
  Process server(serve(dir, dir / "project", port, {{"SLUICE_AUTH_TOKEN", "s3cret"}}));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  CHECK(client.request("GET", "/openapi.json").status == 401);
  const json document = fetch_document(client, {{"Authorization", "Bearer s3cret"}});
  require_valid(dir, document, "auth");

  CHECK(document.at("components").at("securitySchemes").at("bearerAuth").at("scheme") == "bearer");
  CHECK(document.at("security") == json::array({{{"bearerAuth", json::array()}}}));
  CHECK(document.at("paths").at("/healthz").at("get").at("security") == json::array());
  check_operations_match_routes(client, document, "s3cret");
}
