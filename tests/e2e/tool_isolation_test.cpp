// Hostile tool commands against the real binary (issue 12): a command that
// kills its supervisor cannot stall the tool threads, a command cannot read
// the server's secrets or files nor kill it, and instance ids map to folders
// of their own whatever they hold.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

// An agent that runs `command` through the bash tool at every prompt and
// answers with the tool's result.
void write_agent(const std::filesystem::path& project, const std::string& name,
                 const std::string& command, const std::string& sandbox_lines) {
  std::filesystem::create_directories(project / "agents");
  const json script = {
      {"loop", true},
      {"turns",
       {{{"text", ""}, {"tool_calls", {{{"name", "bash"}, {"args", {{"command", command}}}}}}},
        {{"text", "result {last_tool_result}"}}}}};
  std::ofstream(project / (name + ".json")) << script.dump();
  std::ofstream(project / "agents" / (name + ".toml"))
      << "model = \"sluice/scripted\"\nexpose = [\"http\"]\n"
      << "[model_options]\nloop = true\nscript = " << json((project / (name + ".json")).string())
      << "\n[sandbox]\nkind = \"local\"\n"
      << sandbox_lines;
}

std::string prompt(uint16_t port, const std::string& target, const HeaderList& headers = {}) {
  HttpClient client("127.0.0.1", port);
  HeaderList all = headers;
  all.emplace_back("Content-Type", "application/json");
  auto response = client.request("POST", target, R"({"message":"go"})", all);
  if (response.status != 200)
    return "HTTP " + std::to_string(response.status) + " " + response.body;
  return response.json()["result"].get<std::string>();
}

ProcessOptions server_options(const std::filesystem::path& dir, uint16_t port,
                              std::map<std::string, std::string> env = {}) {
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
  options.env = std::move(env);
  options.env["PORT"] = std::to_string(port);
  options.stderr_path = dir / "err.log";
  return options;
}

}  // namespace

TEST_CASE("commands that kill their supervisor and hold stdout do not stall the tool threads") {
  TempDir dir("sluice-tool-stall");
  const auto project = dir / "project";
  // The command of the issue, word for word: find the supervisor, leave a
  // background job holding stdout, kill the supervisor.
  write_agent(project, "hostile",
              "SUP=$(awk '/^PPid/{print $2}' /proc/$PPID/status); (sleep 75; echo late) & "
              "kill -9 $SUP",
              "cwd = \"" + (dir / "work").string() + "\"\n");
  write_agent(project, "probe", "echo probe-ok", "cwd = \"" + (dir / "work").string() + "\"\n");
  std::filesystem::create_directories(dir / "work");
  const uint16_t port = free_port();
  Process server(server_options(dir.path(), port));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));

  // As many hostile calls as the node has tool threads (default 4).
  std::vector<std::future<std::string>> hostile;
  for (int i = 0; i < 4; ++i) {
    hostile.push_back(std::async(std::launch::async, [port, i] {
      return prompt(port, "/agents/hostile/h" + std::to_string(i));
    }));
  }
  std::this_thread::sleep_for(1s);
  const auto started = std::chrono::steady_clock::now();
  const std::string probe = prompt(port, "/agents/probe/p");
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(probe << "\n" << server.stderr_text());
  CHECK(probe.find("probe-ok") != std::string::npos);
  CHECK(took < 15s);
  for (auto& call : hostile) {
    REQUIRE(call.wait_for(20s) == std::future_status::ready);
    CHECK(call.get().find("late") == std::string::npos);
  }
  CHECK(server.running());
}

TEST_CASE("a tool command cannot read the server's secrets or files, nor kill it") {
  TempDir dir("sluice-tool-secrets");
  const auto project = dir / "project";
  const auto database = dir / "data" / "sluice.db";
  std::filesystem::create_directories(dir / "data");
  std::filesystem::create_directories(dir / "work");
  std::filesystem::create_directories(project);
  std::ofstream(project / ".env") << "ZZ_DOTENV_SECRET=zz-dotenv-zz\n";
  const uint16_t port = free_port();
  const std::string token = "zz-auth-token-zz";
  // The server's process id is only known once it runs: the test hands it
  // over in a file the command reads (an attacker could guess it). The
  // command's parent is its supervisor (the isolation's init).
  const std::string command =
      "PID=$(cat pidfile); out=''; "
      "for f in /proc/$PID/environ /proc/$PID/cmdline /proc/$PID/mem " +
      database.string() + " " + database.string() + "-wal " + (project / ".env").string() +
      "; do if [ -n \"$(head -c 256 \"$f\" 2>/dev/null | tr -d '\\000')\" ]; then "
      "out=\"$out READ:$f\"; fi; done; "
      "grep -l zz- /proc/[0-9]*/environ 2>/dev/null | sed 's/^/LEAK:/'; "
      "kill -9 $PID 2>/dev/null && echo KILLED-SERVER; "
      "kill -9 $PPID 2>/dev/null; "
      "echo \"checked$out\"";
  write_agent(project, "probe", command, "cwd = \"" + (dir / "work").string() + "\"\n");
  Process server(server_options(dir.path(), port,
                                {{"SLUICE_AUTH_TOKEN", token},
                                 {"DATABASE_URL", database.string()},
                                 {"OPENAI_API_KEY", "zz-provider-key-zz"},
                                 {"ZZ_PLAIN_MARKER", "zz-plain-marker-zz"}}));
  std::ofstream(dir / "work" / "pidfile") << server.pid();
  const HeaderList auth{{"Authorization", "Bearer " + token}};
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));

  const std::string result = prompt(port, "/agents/probe/p1", auth);
  INFO(result << "\n" << server.stderr_text());
  CHECK(result.find("checked") != std::string::npos);
  CHECK(result.find("READ:") == std::string::npos);
  CHECK(result.find("LEAK:") == std::string::npos);
  CHECK(result.find("KILLED-SERVER") == std::string::npos);
  CHECK(server.running());
  // The server keeps serving, tools included.
  CHECK(prompt(port, "/agents/probe/p2", auth).find("checked") != std::string::npos);
  CHECK(server.stderr_text().find("isolated by bubblewrap") != std::string::npos);

  // Nothing of the initial environment is left in the block /proc shows,
  // even to root outside the sandbox.
  std::ifstream environ("/proc/" + std::to_string(server.pid()) + "/environ");
  const std::string block((std::istreambuf_iterator<char>(environ)),
                          std::istreambuf_iterator<char>());
  CHECK(block.find("zz-") == std::string::npos);
  CHECK(block.find("SLUICE_AUTH_TOKEN") == std::string::npos);
}

TEST_CASE("an agent with isolation = \"none\" still runs commands, and start-up says so") {
  TempDir dir("sluice-tool-none");
  const auto project = dir / "project";
  write_agent(project, "plain", "echo plain-ok", "isolation = \"none\"\n");
  const uint16_t port = free_port();
  Process server(server_options(dir.path(), port));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  CHECK(prompt(port, "/agents/plain/a").find("plain-ok") != std::string::npos);
  CHECK(server.stderr_text().find("NOT isolated") != std::string::npos);
}

TEST_CASE("long and unusual instance ids get folders of their own") {
  TempDir dir("sluice-tool-ids");
  const auto project = dir / "project";
  write_agent(project, "w",
              "cat marker 2>/dev/null || echo no-marker; echo \"$PWD\" > marker; "
              "basename \"$PWD\" | wc -c",
              "cwd = \"" + (dir / "work" / "{id}").string() + "\"\n");
  const uint16_t port = free_port();
  Process server(server_options(dir.path(), port));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));

  // 400 bytes: a valid id, longer than a file name may be.
  const std::string long_id(400, 'x');
  const std::string long_result = prompt(port, "/agents/w/" + long_id);
  INFO(long_result << "\n" << server.stderr_text());
  CHECK(long_result.find("no-marker") != std::string::npos);
  CHECK(long_result.find("exit code: 0") != std::string::npos);

  // a/b/c and a_b_c used to share a folder.
  CHECK(prompt(port, "/agents/w/a%2Fb%2Fc").find("no-marker") != std::string::npos);
  CHECK(prompt(port, "/agents/w/a_b_c").find("no-marker") != std::string::npos);
  // Each finds its own marker the second time.
  CHECK(prompt(port, "/agents/w/a_b_c").find("/a_b_c\n") != std::string::npos);
  CHECK(server.running());
}
