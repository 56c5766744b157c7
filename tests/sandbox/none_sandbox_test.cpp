// The "no sandbox" sandbox: nothing of the host is reachable, directly or
// through the tools, and every refusal says why.
#include <memory>

#include "sandbox/none_sandbox.hpp"
#include "sandbox/tools.hpp"
#include "tests/sandbox/sandbox_test_support.hpp"

using sluice::sandbox::ErrorKind;
using sluice::sandbox::ExecRequest;
using sluice::sandbox::NoneSandbox;
using sluice::sandbox::ToolSet;
using sluice::sandbox::test::error_of;

TEST_CASE("every operation of the none sandbox fails with no_sandbox") {
  NoneSandbox sandbox;
  ExecRequest request;
  request.command = "echo hi";
  std::vector<std::function<void()>> operations{
      [&] { sandbox.read("a"); },       [&] { sandbox.read_bytes("a"); },
      [&] { sandbox.write("a", "x"); }, [&] { sandbox.stat("a"); },
      [&] { sandbox.readdir("."); },    [&] { sandbox.exists("a"); },
      [&] { sandbox.mkdir("a"); },      [&] { sandbox.rm("a", true); },
      [&] { sandbox.exec(request); }};
  for (const auto& operation : operations) {
    auto error = error_of(operation);
    CHECK(error.kind() == ErrorKind::kNoSandbox);
    CHECK_THAT(error.what(), Catch::StartsWith("this agent has no sandbox"));
  }
}

TEST_CASE("every tool over the none sandbox is an error result saying so") {
  ToolSet tools(std::make_shared<NoneSandbox>());
  const std::vector<std::pair<std::string, nlohmann::json>> calls{
      {"bash", {{"command", "ls"}}},
      {"read_file", {{"path", "a"}}},
      {"write_file", {{"path", "a"}, {"content", "x"}}},
      {"edit_file", {{"path", "a"}, {"old_string", "x"}, {"new_string", "y"}}},
      {"list_files", {{"pattern", "**/*"}}},
      {"grep", {{"pattern", "x"}}}};
  REQUIRE(calls.size() == tools.tools().size());
  for (const auto& [name, arguments] : calls) {
    INFO(name);
    auto result = tools.call(name, arguments);
    CHECK(result.is_error);
    CHECK_THAT(result.content, Catch::Contains("this agent has no sandbox"));
  }
}
