// The real binary with a provider key in its environment: a shell command run
// by an agent finds the key neither in its own environment nor in any process's
// /proc/PID/environ, the server's included.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

TEST_CASE("provider keys never reach an agent's shell, not even through /proc") {
  TempDir dir("sluice-secrets");
  std::filesystem::create_directories(dir / "project" / "agents");
  std::ofstream(dir / "project" / "agents" / "probe.toml")
      << "model = \"sluice/scripted\"\nexpose = [\"http\"]\n[sandbox]\nkind = \"local\"\n"
         "[model_options]\nloop = true\n[[model_options.turns]]\ntext = \"\"\n"
         "tool_calls = [{ name = \"bash\", args = { command = "
         "\"(env; for p in /proc/[0-9]*; do cat $p/environ; echo; done) 2>/dev/null | "
         "tr '\\\\000' '\\\\n' | grep -c zz-provider-key-zz; true\" } }]\n"
         "[[model_options.turns]]\ntext = \"count {last_tool_result}\"\n";
  const uint16_t port = free_port();
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
  options.env = {{"PORT", std::to_string(port)},
                 {"OPENAI_API_KEY", "zz-provider-key-zz"},
                 {"ANTHROPIC_API_KEY", "zz-provider-key-zz"}};
  options.stderr_path = dir / "err.log";
  Process server(std::move(options));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  auto response = client.request("POST", "/agents/probe/p1", R"({"message":"look"})",
                                 {{"Content-Type", "application/json"}});
  INFO(response.body << "\n" << server.stderr_text());
  REQUIRE(response.status == 200);
  // The bash tool reports "exit code: N" and the output; grep counted 0 lines.
  CHECK(response.json()["result"].get<std::string>().find("<stdout>\n0\n</stdout>") !=
        std::string::npos);
}
