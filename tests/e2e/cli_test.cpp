// The sluice command line as a user types it: help, exit codes, .env loading
// for `dev` and `run` (and not for `serve`), `sluice run` of a workflow and
// `sluice dev` reloading the project as it changes.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

void write_echo_project(const TempDir& dir) {
  write(dir / "project" / "agents" / "echo.toml", "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  write(dir / "project" / "workflows" / "greet.toml",
        "agent = \"echo\"\nprompt = \"Say {{payload.name}}\"\nexpose = [\"http\"]\n");
}

struct Finished {
  ExitStatus status;
  std::string out;
  std::string err;
};

// Runs the binary to its end (at most a minute).
Finished run_sluice(const TempDir& dir, std::vector<std::string> args,
                    std::map<std::string, std::string> env = {}) {
  static int counter = 0;
  const std::string log = "cli" + std::to_string(++counter);
  ProcessOptions options;
  options.argv = {SLUICE_BINARY};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = std::move(env);
  options.stdout_path = dir / (log + ".out");
  options.stderr_path = dir / (log + ".err");
  Process process(std::move(options));
  auto status = process.wait(60s);
  if (!status) throw std::runtime_error("sluice did not finish within a minute");
  return {*status, process.stdout_text(), process.stderr_text()};
}

ProcessOptions dev(const TempDir& dir, std::vector<std::string> extra,
                   std::map<std::string, std::string> env, const std::string& log) {
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "dev", "--project", (dir / "project").string()};
  options.argv.insert(options.argv.end(), extra.begin(), extra.end());
  options.env = std::move(env);
  options.stdout_path = dir / (log + ".out");
  options.stderr_path = dir / (log + ".err");
  return options;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Whether a listener could take this loopback port now.
bool port_is_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

Response prompt(uint16_t port, const std::string& agent, const std::string& message,
                HeaderList headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  HttpClient client("127.0.0.1", port);
  return client.request("POST", "/agents/" + agent + "/x", json{{"message", message}}.dump(),
                        headers);
}

// Until `check` holds (checked every 50 ms) or 10 s passed.
template <typename Check>
bool eventually(Check check) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void stop(Process& server) {
  server.kill(SIGTERM);
  auto status = server.wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(0));
}

}  // namespace

// --- help and usage ---------------------------------------------------------------------

TEST_CASE("sluice --help lists the commands and points at the README", "[cli]") {
  TempDir dir;
  const auto help = run_sluice(dir, {"--help"});
  CHECK(help.status.exited_with(0));
  for (const char* part : {"serve", "dev", "run", "README", "--version"}) {
    INFO(part);
    CHECK(contains(help.out, part));
  }
}

TEST_CASE("each command's help names its options, environment and exit status", "[cli]") {
  TempDir dir;
  const auto run_help = run_sluice(dir, {"run", "--help"});
  CHECK(run_help.status.exited_with(0));
  for (const char* part : {"WORKFLOW", "--payload", "--json", "--project", "--env", ".env",
                           "DATABASE_URL", "Exit status", "stdout", "stderr"}) {
    INFO(part);
    CHECK(contains(run_help.out, part));
  }
  const auto dev_help = run_sluice(dir, {"dev", "--help"});
  CHECK(dev_help.status.exited_with(0));
  for (const char* part : {"--port", "3583", "--env", "--project", "PORT", "Exit status"}) {
    INFO(part);
    CHECK(contains(dev_help.out, part));
  }
  const auto serve_help = run_sluice(dir, {"serve", "--help"});
  CHECK(serve_help.status.exited_with(0));
  for (const char* part : {"--project", "3000", "SIGTERM", "Exit status"}) {
    INFO(part);
    CHECK(contains(serve_help.out, part));
  }
  CHECK_FALSE(contains(serve_help.out, "--env"));
}

TEST_CASE("sluice without a command prints the help and fails", "[cli]") {
  TempDir dir;
  const auto bare = run_sluice(dir, {});
  CHECK(bare.status.exited_with(2));
  CHECK(contains(bare.err, "serve"));
  CHECK(contains(bare.err, "run"));

  const auto unknown_option = run_sluice(dir, {"run", "greet", "--frobnicate"});
  CHECK(unknown_option.status.exited_with(2));
  CHECK(contains(unknown_option.err, "--frobnicate"));
}

TEST_CASE("sluice run refuses a payload that is not JSON with exit status 2", "[cli]") {
  TempDir dir;
  write_echo_project(dir);
  const auto result = run_sluice(
      dir, {"run", "greet", "--payload", "{name: Ada", "--project", (dir / "project").string()});
  CHECK(result.status.exited_with(2));
  CHECK(contains(result.err, "--payload is not valid JSON"));
  CHECK(result.out.empty());
}

// --- .env -------------------------------------------------------------------------------

TEST_CASE("sluice dev takes PORT and SLUICE_* from .env unless exported", "[cli][dotenv]") {
  TempDir dir;
  write_echo_project(dir);
  const uint16_t dotenv_port = free_port();
  write(dir / "project" / ".env", "# development settings\nPORT=" + std::to_string(dotenv_port) +
                                      "\nexport SLUICE_AUTH_TOKEN='from-dotenv'\n");

  SECTION("the .env values apply") {
    Process server(dev(dir, {}, {}, "dotenv"));
    REQUIRE(wait_for_http_ok(dotenv_port, "/healthz", 20s, &server));
    CHECK(prompt(dotenv_port, "echo", "hi").status == 401);
    CHECK(prompt(dotenv_port, "echo", "hi", {{"Authorization", "Bearer from-dotenv"}}).status ==
          200);
    stop(server);
  }
  SECTION("exported values win over .env") {
    const uint16_t exported_port = free_port();
    Process server(
        dev(dir, {}, {{"PORT", std::to_string(exported_port)}, {"SLUICE_AUTH_TOKEN", "from-shell"}},
            "exported"));
    REQUIRE(wait_for_http_ok(exported_port, "/healthz", 20s, &server));
    CHECK_FALSE(wait_for_port(dotenv_port, 200ms));
    CHECK(prompt(exported_port, "echo", "hi", {{"Authorization", "Bearer from-dotenv"}}).status ==
          401);
    CHECK(prompt(exported_port, "echo", "hi", {{"Authorization", "Bearer from-shell"}}).status ==
          200);
    stop(server);
  }
  SECTION("--port wins over both") {
    const uint16_t flag_port = free_port();
    Process server(dev(dir, {"--port", std::to_string(flag_port)},
                       {{"PORT", std::to_string(free_port())}}, "flag"));
    REQUIRE(wait_for_http_ok(flag_port, "/healthz", 20s, &server));
    stop(server);
  }
  SECTION("--env FILE replaces the project's .env") {
    const uint16_t other_port = free_port();
    write(dir / "other.env", "PORT=" + std::to_string(other_port) + "\n");
    Process server(dev(dir, {"--env", (dir / "other.env").string()}, {}, "envfile"));
    REQUIRE(wait_for_http_ok(other_port, "/healthz", 20s, &server));
    CHECK(prompt(other_port, "echo", "hi").status == 200);  // no token: the project .env is unread
    stop(server);
  }
}

TEST_CASE("sluice dev listens on 3583 when no PORT is set anywhere", "[cli][dotenv]") {
  TempDir dir;
  write_echo_project(dir);
  if (!port_is_free(3583)) {
    WARN("port 3583 is taken on this machine: the default dev port is not checked");
    return;
  }
  Process server(dev(dir, {}, {}, "default"));
  REQUIRE(wait_for_http_ok(3583, "/healthz", 20s, &server));
  stop(server);
}

TEST_CASE("a malformed .env stops dev and run naming the file and the line", "[cli][dotenv]") {
  TempDir dir;
  write_echo_project(dir);
  write(dir / "project" / ".env", "PORT=1\nSLUICE_LOG_LEVEL=\"debug\nOTHER=2\n");
  const std::string where = (dir / "project" / ".env").string() + ":2:";

  Process server(dev(dir, {}, {{"PORT", std::to_string(free_port())}}, "malformed"));
  auto status = server.wait(20s);
  REQUIRE(status);
  CHECK(status->code == 1);
  CHECK(contains(server.stderr_text(), where));

  const auto run = run_sluice(dir, {"run", "greet", "--payload", R"({"name":"Ada"})", "--project",
                                    (dir / "project").string()});
  CHECK(run.status.exited_with(1));
  CHECK(contains(run.err, where));

  const auto missing = run_sluice(dir, {"run", "greet", "--project", (dir / "project").string(),
                                        "--env", (dir / "nowhere.env").string()});
  CHECK(missing.status.exited_with(1));
  CHECK(contains(missing.err, "nowhere.env: no such file"));
}

TEST_CASE("sluice serve never reads .env", "[cli][dotenv]") {
  TempDir dir;
  write_echo_project(dir);
  const uint16_t port = free_port();
  write(dir / "project" / ".env",
        "PORT=" + std::to_string(free_port()) + "\nSLUICE_AUTH_TOKEN=from-dotenv\nnot a line\n");
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
  options.env = {{"PORT", std::to_string(port)}};
  options.stderr_path = dir / "serve.err";
  Process server(std::move(options));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  CHECK(prompt(port, "echo", "hi").status == 200);  // no token asked for
  stop(server);
}

// --- sluice run -------------------------------------------------------------------------

TEST_CASE("sluice run prints progress on stderr and the result last on stdout", "[cli][run]") {
  TempDir dir;
  write_echo_project(dir);
  const std::string project = (dir / "project").string();

  SECTION("readable progress") {
    const auto result =
        run_sluice(dir, {"run", "greet", "--payload", R"({"name":"Ada"})", "--project", project});
    INFO(result.err);
    CHECK(result.status.exited_with(0));
    const auto out = lines_of(result.out);
    REQUIRE_FALSE(out.empty());
    CHECK(json::parse(out.back()) == json{{"text", "Say Ada"}});
    CHECK(contains(result.err, "[run_start] workflow:greet:"));
    CHECK(contains(result.err, "\n> Say Ada\n"));
    CHECK(contains(result.err, "[run_end] completed"));
    CHECK_FALSE(contains(result.err, "text_delta"));
  }
  SECTION("JSON lines with --json") {
    const auto result = run_sluice(
        dir, {"run", "greet", "--json", "--payload", R"({"name":"Bo"})", "--project", project});
    INFO(result.err);
    CHECK(result.status.exited_with(0));
    CHECK(json::parse(lines_of(result.out).back()) == json{{"text", "Say Bo"}});
    std::vector<std::string> types;
    std::string text;
    for (const auto& line : lines_of(result.err)) {
      const json event = json::parse(line);  // throws (failing the test) on a line that is not
      types.push_back(event["type"]);
      if (event["type"] == "text_delta") text += event["delta"].get<std::string>();
    }
    REQUIRE(types.size() >= 2);
    CHECK(types.front() == "run_start");
    CHECK(types.back() == "run_end");
    CHECK(text == "Say Bo");
  }
  SECTION(".env configures the run, exported values win") {
    write(dir / "project" / ".env", "DATABASE_URL=" + (dir / "from-dotenv.db").string() + "\n");
    CHECK(run_sluice(dir, {"run", "greet", "--payload", R"({"name":"A"})", "--project", project})
              .status.exited_with(0));
    CHECK(std::filesystem::exists(dir / "from-dotenv.db"));
    CHECK(run_sluice(dir, {"run", "greet", "--payload", R"({"name":"A"})", "--project", project},
                     {{"DATABASE_URL", (dir / "exported.db").string()}})
              .status.exited_with(0));
    CHECK(std::filesystem::exists(dir / "exported.db"));
  }
}

TEST_CASE("sluice run: rejections exit 2, a failed run exits 1 with its error", "[cli][run]") {
  TempDir dir;
  write_echo_project(dir);
  write(dir / "project" / "agents" / "slow.toml",
        "model = \"sluice/echo\"\ntimeout_s = 1\nmax_attempts = 1\n[model_options]\ndelay_ms = "
        "5000\n");
  write(dir / "project" / "workflows" / "late.toml", "agent = \"slow\"\nprompt = \"too late\"\n");
  const std::string project = (dir / "project").string();

  const auto unknown = run_sluice(dir, {"run", "nope", "--project", project});
  CHECK(unknown.status.exited_with(2));
  CHECK(contains(unknown.err, "workflow_not_found"));
  CHECK(unknown.out.empty());

  const auto refused = run_sluice(dir, {"run", "greet", "--payload", "{}", "--project", project});
  CHECK(refused.status.exited_with(2));
  CHECK(contains(refused.err, "validation_failed"));

  const auto failed = run_sluice(dir, {"run", "late", "--project", project});
  INFO(failed.err);
  CHECK(failed.status.exited_with(1));
  CHECK(contains(failed.err, "[run_end] errored"));
  CHECK(contains(failed.err, "sluice: submission_failed: "));
  CHECK(failed.out.empty());
}

// --- sluice dev reloading ---------------------------------------------------------------

TEST_CASE("sluice dev reloads changed definitions and keeps serving broken ones", "[cli][dev]") {
  TempDir dir;
  write_echo_project(dir);
  const uint16_t port = free_port();
  Process server(dev(dir, {}, {{"PORT", std::to_string(port)}}, "reload"));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  CHECK(prompt(port, "second", "hi").status == 404);

  write(dir / "project" / "agents" / "second.toml",
        "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  CHECK(eventually([&] { return prompt(port, "second", "hi").status == 200; }));
  CHECK(eventually([&] { return contains(server.stderr_text(), "reloaded: 2 agent"); }));

  write(dir / "project" / "workflows" / "shout.toml",
        "agent = \"second\"\nprompt = \"HEY {{payload.who}}\"\nexpose = [\"http\"]\n");
  CHECK(eventually([&] {
    HttpClient client("127.0.0.1", port);
    auto response = client.request("POST", "/workflows/shout?wait=result", R"({"who":"you"})",
                                   {{"Content-Type", "application/json"}});
    return response.status == 200 && response.json()["result"] == json{{"text", "HEY you"}};
  }));

  // A broken file: reported naming the file and the key, the old definitions go on.
  write(dir / "project" / "agents" / "second.toml", "model = \"sluice/echo\"\nexpose = \"http\"\n");
  CHECK(eventually([&] {
    const std::string err = server.stderr_text();
    return contains(err, "second.toml") && contains(err, "expose") &&
           contains(err, "reload failed");
  }));
  CHECK(prompt(port, "second", "still").json()["result"] == "still");
  CHECK(prompt(port, "echo", "and me").json()["result"] == "and me");

  // Fixed again: served from the new definition.
  write(dir / "project" / "agents" / "second.toml", "model = \"sluice/echo\"\n");
  CHECK(eventually([&] { return prompt(port, "second", "hi").status == 404; }));
  stop(server);
}

TEST_CASE("sluice dev reloading does not drop accepted work", "[cli][dev]") {
  TempDir dir;
  write_echo_project(dir);
  write(dir / "project" / "agents" / "slow.toml",
        "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\ndelay_ms = 1500\n");
  const uint16_t port = free_port();
  Process server(dev(dir, {}, {{"PORT", std::to_string(port)}}, "inflight"));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  std::vector<std::string> ids;
  for (const char* input : {"first", "second"}) {
    auto receipt = client.request("POST", "/agents/slow/s/dispatch", json{{"input", input}}.dump(),
                                  {{"Content-Type", "application/json"}});
    REQUIRE(receipt.status == 202);
    ids.push_back(receipt.json()["submissionId"]);
  }
  write(dir / "project" / "agents" / "slow.toml",
        "model = \"sluice/echo\"\nexpose = [\"http\"]\ninstructions = \"Be brief.\"\n"
        "[model_options]\ndelay_ms = 1500\n");
  REQUIRE(eventually([&] { return contains(server.stderr_text(), "reloaded: "); }));
  for (size_t i = 0; i < ids.size(); ++i) {
    json record;
    CHECK(eventually([&] {
      record = client.request("GET", "/agents/slow/s/submissions/" + ids[i]).json();
      return record["state"] == "completed";
    }));
    CHECK(record["result"] == (i == 0 ? "first" : "second"));
  }
  stop(server);
}
