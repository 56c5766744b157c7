// The ToolSet: definitions as providers expect them, the allowlist, and
// argument checking that never throws.
#include <set>

#include "tests/sandbox/tool_fixture.hpp"

using nlohmann::json;
using sluice::sandbox::LocalSandbox;
using sluice::sandbox::ToolSet;
using sluice::sandbox::test::ToolFixture;

TEST_CASE("the built-in tools, each with a one-line description and an object schema") {
  ToolFixture f;
  std::vector<std::string> names;
  for (const auto& tool : f.tools.tools()) {
    INFO(tool.name);
    names.push_back(tool.name);
    CHECK_FALSE(tool.description.empty());
    CHECK(tool.description.find('\n') == std::string::npos);
    const json& schema = tool.parameters;
    CHECK(schema["type"] == "object");
    REQUIRE(schema["properties"].is_object());
    REQUIRE(schema["required"].is_array());
    for (const json& required : schema["required"]) {
      CHECK(schema["properties"].contains(required.get<std::string>()));
    }
    for (const auto& [property, definition] : schema["properties"].items()) {
      CHECK(definition["type"].is_string());
      CHECK(definition["description"].is_string());
    }
  }
  CHECK(names == std::vector<std::string>{"bash", "read_file", "write_file", "edit_file",
                                          "list_files", "grep"});
}

TEST_CASE("an allowlist keeps the named tools and unknown names are an error naming them") {
  auto sandbox = std::make_shared<LocalSandbox>();
  ToolSet some(sandbox, std::vector<std::string>{"grep", "read_file"});
  REQUIRE(some.tools().size() == 2);
  CHECK(some.tools()[0].name == "read_file");
  CHECK(some.tools()[1].name == "grep");
  CHECK(some.has("grep"));
  CHECK_FALSE(some.has("bash"));
  auto refused = some.call("bash", {{"command", "echo hi"}});
  CHECK(refused.is_error);
  CHECK_THAT(refused.content, Catch::Contains("unknown tool \"bash\""));
  CHECK_THAT(refused.content, Catch::Contains("read_file, grep"));

  CHECK(ToolSet(sandbox, std::vector<std::string>{}).tools().empty());
  try {
    ToolSet bad(sandbox, std::vector<std::string>{"bash", "rm_rf", "browser"});
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& error) {
    CHECK_THAT(error.what(), Catch::Contains("rm_rf, browser"));
    CHECK_THAT(error.what(), Catch::Contains("bash, read_file"));
  }
}

TEST_CASE("invalid arguments are error results that say what to change") {
  ToolFixture f;
  struct Case {
    std::string tool;
    json arguments;
    std::string says;
  };
  const std::vector<Case> cases{
      {"read_file", json::array(), "the arguments must be a JSON object"},
      {"read_file", "path", "the arguments must be a JSON object"},
      {"read_file", json::object(), "\"path\" is required"},
      {"read_file", {{"path", nullptr}}, "\"path\" is required"},
      {"read_file", {{"path", 7}}, "\"path\" must be a string"},
      {"read_file", {{"path", "a"}, {"offset", "3"}}, "\"offset\" must be an integer"},
      {"read_file", {{"path", "a"}, {"offset", 1.5}}, "\"offset\" must be an integer"},
      {"read_file", {{"path", "a"}, {"offset", 0}}, "\"offset\" must be at least 1"},
      {"read_file", {{"path", "a"}, {"limit", 100'000'000}}, "\"limit\" must be at most 100000"},
      {"read_file",
       {{"path", "a"}, {"lines", 3}},
       "unknown argument \"lines\" (expected: limit, offset, path)"},
      {"bash", {{"command", "true"}, {"timeout_ms", -5}}, "\"timeout_ms\" must be at least 1"},
      {"bash",
       {{"command", "true"}, {"timeout_ms", 18446744073709551615ULL}},
       "\"timeout_ms\" must be at most 600000"},
      {"edit_file", {{"path", "a"}, {"old_string", "x"}}, "\"new_string\" is required"},
      {"write_file", {{"path", "a"}, {"content", json::array()}}, "\"content\" must be a string"},
  };
  for (const Case& c : cases) {
    INFO(c.tool << " " << c.arguments.dump());
    auto result = f.call(c.tool, c.arguments);
    CHECK(result.is_error);
    CHECK_THAT(result.content, Catch::StartsWith("invalid arguments for " + c.tool + ": "));
    CHECK_THAT(result.content, Catch::Contains(c.says));
  }
  CHECK_FALSE(std::filesystem::exists(f.dir / "a"));
}

TEST_CASE("a null optional argument counts as absent") {
  ToolFixture f;
  f.put("a.txt", "one\n");
  auto result = f.call("read_file", {{"path", "a.txt"}, {"offset", nullptr}, {"limit", nullptr}});
  CHECK_FALSE(result.is_error);
  CHECK(result.content == "     1\tone\n");
}
