// An agent with a local sandbox and tools, driven by the scripted model: the
// tool loop records the call and its result, streams tool events, feeds the
// result to the next turn, and the shell never sees the server's secrets.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "actors/history_helpers.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;
using nlohmann::json;

TEST_CASE("a tool round trip: call recorded, run in the sandbox, result fed back, events streamed") {
  setenv("SLUICE_SECRET_PROBE", "hunter2", 1);
  TempDir work("sluice-tools");
  TestProject project;
  project.write_agent(
      "worker",
      "model = \"sluice/scripted\"\nexpose = [\"http\"]\ntools = [\"bash\", \"read_file\"]\n"
      "[sandbox]\nkind = \"local\"\ncwd = \"" + (work.path() / "{id}").string() + "\"\n"
      "[model_options]\nloop = true\n"
      "[[model_options.turns]]\ntext = \"running\"\n"
      "tool_calls = [{ name = \"bash\", args = { command = "
      "\"echo tool-says-$((40+2)) [$SLUICE_SECRET_PROBE] > out.txt; cat out.txt\" } }]\n"
      "[[model_options.turns]]\ntext = \"done: {last_tool_result}\"\n");
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());

  auto stream = client.open_sse("POST", "/agents/worker/w1", R"({"message":"go"})",
                                {{"Content-Type", "application/json"}});
  REQUIRE(stream.status() == 200);
  std::vector<std::string> types;
  json tool_call, result;
  while (auto event = stream.next(30s)) {
    types.push_back(event->event);
    if (event->event == "tool_call") tool_call = event->json();
    if (event->event == "operation") result = event->json();
  }
  INFO(json(types).dump());
  CHECK(std::count(types.begin(), types.end(), "tool_start") == 1);
  CHECK(std::count(types.begin(), types.end(), "turn_start") == 2);
  CHECK(std::count(types.begin(), types.end(), "agent_start") == 1);
  CHECK(tool_call["isError"] == false);
  const std::string output = tool_call["result"];
  CHECK(output.find("tool-says-42 []") != std::string::npos);  // the secret is not there
  CHECK(result["result"].get<std::string>().find("done: ") == 0);
  CHECK(result["result"].get<std::string>().find("tool-says-42") != std::string::npos);
  CHECK(std::filesystem::exists(work / "w1" / "out.txt"));  // {id} gave the instance its folder

  const auto entries = history(client, "worker", "w1");
  REQUIRE(entries.size() == 5);
  CHECK(entries[0]["type"] == "user");
  CHECK(entries[1]["type"] == "assistant");
  CHECK(entries[2]["type"] == "tool_call");
  CHECK(entries[2]["toolName"] == "bash");
  CHECK(entries[3]["type"] == "tool_result");
  CHECK(entries[3]["toolCallId"] == entries[2]["toolCallId"]);
  CHECK(entries[4]["type"] == "assistant");
  unsetenv("SLUICE_SECRET_PROBE");
}

TEST_CASE("an agent that lists tools without a sandbox, or an unknown tool, fails at start-up") {
  TestProject project;
  project.write_agent("bad", "model = \"sluice/echo\"\ntools = [\"bash\"]\n");
  CHECK_THROWS_WITH(TestNode(project.path()), Catch::Contains("bad.toml: tools: this agent has no sandbox"));
  TestProject other;
  other.write_agent("bad", "model = \"sluice/echo\"\ntools = [\"bsh\"]\n[sandbox]\nkind = \"local\"\n");
  CHECK_THROWS_WITH(TestNode(other.path()), Catch::Contains("bsh"));
}
