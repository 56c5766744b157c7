// load_project against real folders: the shipped examples, and one broken file
// per kind of mistake, checking that each message names the file and key.
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "harness/project.hpp"
#include "tests/support/temp_dir.hpp"

using sluice::harness::load_project;
using sluice::harness::ProjectError;
using sluice::test::TempDir;

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// The message load_project throws for a project holding just agents/NAME.toml.
std::string error_for(const TempDir& dir, const std::string& name, const std::string& toml) {
  write_file(dir / "agents" / name, toml);
  try {
    load_project(dir.path());
  } catch (const ProjectError& error) {
    return error.what();
  }
  FAIL("load_project accepted agents/" << name << ":\n" << toml);
  return {};
}

std::string file_in(const TempDir& dir, const std::string& name) {
  return (dir.path() / "agents" / name).string();
}

}  // namespace

TEST_CASE("the shipped examples project loads", "[project]") {
  const auto project = load_project(std::filesystem::path(SLUICE_SOURCE_DIR) / "examples");
  REQUIRE(project.agents.size() == 3);
  const auto* scripted = project.find_agent("scripted-tools");
  REQUIRE(scripted != nullptr);
  CHECK(scripted->sandbox.kind == "local");
  CHECK(scripted->tools == std::vector<std::string>{"bash", "read_file", "list_files"});

  const auto* echo = project.find_agent("echo");
  REQUIRE(echo != nullptr);
  CHECK(echo->name == "echo");
  CHECK(echo->model == "sluice/echo");
  CHECK_FALSE(echo->instructions.empty());
  CHECK(echo->expose_http);
  CHECK(echo->expose_websocket);
  CHECK(echo->model_options == nlohmann::json::object());
  CHECK(echo->source_file.ends_with("examples/agents/echo.toml"));

  const auto* slow = project.find_agent("slow-echo");
  REQUIRE(slow != nullptr);
  CHECK(slow->model == "sluice/echo");
  CHECK(slow->model_options == nlohmann::json{{"delay_ms", 1500}});
  CHECK(slow->expose_http);
  CHECK(slow->expose_websocket);

  CHECK(project.find_agent("missing") == nullptr);
}

TEST_CASE("optional keys take their defaults", "[project]") {
  TempDir dir;
  write_file(dir / "agents" / "plain.toml", "model = \"sluice/echo\"\n");
  const auto project = load_project(dir.path());
  const auto* plain = project.find_agent("plain");
  REQUIRE(plain != nullptr);
  CHECK(plain->instructions.empty());
  CHECK_FALSE(plain->expose_http);
  CHECK_FALSE(plain->expose_websocket);
  CHECK(plain->model_options == nlohmann::json::object());
  CHECK(plain->source_file == file_in(dir, "plain.toml"));
}

TEST_CASE("expose sets exactly the transports listed", "[project]") {
  TempDir dir;
  write_file(dir / "agents" / "web.toml", "model = \"sluice/echo\"\nexpose = [\"websocket\"]\n");
  write_file(dir / "agents" / "none.toml", "model = \"sluice/echo\"\nexpose = []\n");
  const auto project = load_project(dir.path());
  CHECK_FALSE(project.agents.at("web").expose_http);
  CHECK(project.agents.at("web").expose_websocket);
  CHECK_FALSE(project.agents.at("none").expose_http);
  CHECK_FALSE(project.agents.at("none").expose_websocket);
}

TEST_CASE("the project folder itself must exist", "[project]") {
  TempDir dir;
  const auto missing = dir / "nowhere";
  CHECK_THROWS_WITH(load_project(missing),
                    "project directory '" + missing.string() + "' does not exist");
  write_file(dir / "file", "");
  CHECK_THROWS_WITH(load_project(dir / "file"),
                    "project directory '" + (dir / "file").string() + "' is not a directory");
}

TEST_CASE("a project without agents/ has no agents", "[project]") {
  TempDir dir;
  const auto project = load_project(dir.path());
  CHECK(project.agents.empty());
  CHECK(project.root == dir.path());
}

TEST_CASE("agents/ must be a folder", "[project]") {
  TempDir dir;
  write_file(dir / "agents", "");
  CHECK_THROWS_WITH(load_project(dir.path()),
                    Catch::StartsWith((dir / "agents").string() + ": expected a folder"));
}

TEST_CASE("files that are not agents are ignored", "[project]") {
  TempDir dir;
  write_file(dir / "agents" / "echo.toml", "model = \"sluice/echo\"\n");
  write_file(dir / "agents" / "notes.md", "not toml at all = = =");
  write_file(dir / "agents" / "echo.toml.bak", "broken = ");
  write_file(dir / "agents" / ".#echo.toml", "broken = ");
  const auto project = load_project(dir.path());
  REQUIRE(project.agents.size() == 1);
  CHECK(project.agents.count("echo") == 1);
}

TEST_CASE("agent names follow the file-stem rule", "[project]") {
  CHECK(sluice::harness::is_valid_agent_name("echo"));
  CHECK(sluice::harness::is_valid_agent_name("A-b_9"));
  CHECK(sluice::harness::is_valid_agent_name("9lives"));
  CHECK_FALSE(sluice::harness::is_valid_agent_name(""));
  CHECK_FALSE(sluice::harness::is_valid_agent_name("a:b"));
  CHECK_FALSE(sluice::harness::is_valid_agent_name("-lead"));
  CHECK_FALSE(sluice::harness::is_valid_agent_name("_lead"));
  CHECK_FALSE(sluice::harness::is_valid_agent_name("two words"));
  CHECK_FALSE(sluice::harness::is_valid_agent_name("caf\xc3\xa9"));

  for (const std::string name : {"a:b", "-lead", "two words", "dot.ted"}) {
    TempDir dir;
    CHECK(error_for(dir, name + ".toml", "model = \"sluice/echo\"\n") ==
          file_in(dir, name + ".toml") + ": '" + name +
              "' is not a valid agent name: use letters, digits, '_' and '-', starting with a "
              "letter or digit");
  }
}

TEST_CASE("syntax errors give the file, line and column", "[project]") {
  TempDir dir;
  const auto message = error_for(dir, "echo.toml", "model = \"sluice/echo\"\n\nexpose = [http]\n");
  CHECK_THAT(message, Catch::StartsWith(file_in(dir, "echo.toml") +
                                        ": TOML syntax error at line 3, column 11: "));
}

TEST_CASE("a non-ASCII character after a value is a syntax error", "[project]") {
  // toml++ 3.3.0 reached __builtin_unreachable() here (harness/toml.hpp;
  // fuzz/corpus/definition_toml/crash-*): undefined behaviour, not an answer.
  TempDir dir;
  for (const std::string character : {"\u00a7", "\u00e9", "\u3001", "\ufe00"}) {
    const auto message =
        error_for(dir, "echo.toml", "model = \"sluice/echo\"\nx = 1" + character + "\n");
    CHECK_THAT(message, Catch::StartsWith(file_in(dir, "echo.toml") +
                                          ": TOML syntax error at line 2, column 6: "));
  }
  write_file(dir / "agents" / "echo.toml",
             "model = \"sluice/echo\" # caf\u00e9 \u00a7\ninstructions = \"caf\u00e9 \u3001\"\n");
  CHECK(load_project(dir.path()).find_agent("echo")->instructions == "caf\u00e9 \u3001");
}

TEST_CASE("each wrong key is reported with the file and dotted key", "[project]") {
  TempDir dir;
  const auto file = file_in(dir, "echo.toml");
  const auto expect = [&](const std::string& toml, const std::string& key,
                          const std::string& problem) {
    CHECK(error_for(dir, "echo.toml", toml) == file + ": key '" + key + "': " + problem);
  };

  SECTION("model missing") {
    expect("instructions = \"hi\"\n", "model",
           R"(missing; every agent needs one, e.g. model = "sluice/echo")");
  }
  SECTION("model of the wrong type") {
    expect("model = 3\n", "model", "expected a string, got integer");
  }
  SECTION("model without a provider") {
    expect("model = \"echo\"\n", "model",
           R"(expected "provider/model", got "echo"; known models: sluice/echo, sluice/scripted, anthropic/*, openai/*)");
  }
  SECTION("unknown provider") {
    expect("model = \"acme/echo\"\n", "model",
           R"(unknown provider "acme"; known models: sluice/echo, sluice/scripted, anthropic/*, openai/*)");
  }
  SECTION("unknown model of a known provider") {
    expect("model = \"sluice/parrot\"\n", "model",
           R"(unknown model "sluice/parrot" of provider "sluice"; known models: sluice/echo, sluice/scripted, anthropic/*, openai/*)");
  }
  SECTION("instructions of the wrong type") {
    expect("model = \"sluice/echo\"\ninstructions = [\"a\"]\n", "instructions",
           "expected a string, got array");
  }
  SECTION("expose of the wrong type") {
    expect("model = \"sluice/echo\"\nexpose = 1\n", "expose",
           R"(expected an array of strings ("http", "websocket"), got integer)");
  }
  SECTION("expose holding a non-string") {
    expect("model = \"sluice/echo\"\nexpose = [\"http\", true]\n", "expose",
           R"(expected an array of strings ("http", "websocket"), got boolean)");
  }
  SECTION("expose naming an unknown transport") {
    expect("model = \"sluice/echo\"\nexpose = [\"grpc\"]\n", "expose",
           R"(unknown transport "grpc"; expected an array of strings ("http", "websocket"))");
  }
  SECTION("a misspelt top-level key") {
    expect("model = \"sluice/echo\"\ninstruction = \"hi\"\n", "instruction",
           "unknown key; known keys: model, instructions, expose, model_options, tools, max_turns, timeout_s, max_attempts, sandbox");
  }
  SECTION("a table that is not known yet") {
    expect("model = \"sluice/echo\"\n[workspace]\nimage = \"x\"\n", "workspace",
           "unknown key; known keys: model, instructions, expose, model_options, tools, max_turns, timeout_s, max_attempts, sandbox");
  }
  SECTION("an unknown sandbox key") {
    expect("model = \"sluice/echo\"\n[sandbox]\nimage = \"x\"\n", "sandbox.image",
           "unknown key; known keys: kind, cwd, isolation, env, url, token");
  }
  SECTION("an unknown sandbox kind") {
    expect("model = \"sluice/echo\"\n[sandbox]\nkind = \"docker\"\n", "sandbox.kind",
           "expected \"none\", \"local\" or \"remote\", got \"docker\"");
  }
  SECTION("max_turns out of range") {
    expect("model = \"sluice/echo\"\nmax_turns = 0\n", "max_turns",
           "expected a whole number from 1 to 1000, got integer");
  }
  SECTION("timeout_s that is not a whole number") {
    expect("model = \"sluice/echo\"\ntimeout_s = 1.5\n", "timeout_s",
           "expected a whole number from 1 to 604800, got float");
  }
  SECTION("max_attempts out of range") {
    expect("model = \"sluice/echo\"\nmax_attempts = 101\n", "max_attempts",
           "expected a whole number from 1 to 100, got integer");
  }
  SECTION("model_options that is not a table") {
    expect("model = \"sluice/echo\"\nmodel_options = 5\n", "model_options",
           "expected a table, got integer");
  }
  SECTION("an option the model rejects") {
    expect("model = \"sluice/echo\"\n[model_options]\ndelay_ms = -1\n", "model_options.delay_ms",
           "expected a whole number of milliseconds from 0 to 600000, got number -1");
  }
  SECTION("an option the model does not know") {
    expect("model = \"sluice/echo\"\n[model_options]\ndelay = 5\n", "model_options.delay",
           "unknown option for sluice/echo; known options: delay_ms");
  }
  SECTION("a TOML value with no JSON form") {
    expect("model = \"sluice/echo\"\n[model_options.window]\nstart = 1979-05-27\n",
           "model_options.window.start", "date values are not supported here; use a string");
  }
}

TEST_CASE("the first broken file in name order is the one reported", "[project]") {
  TempDir dir;
  write_file(dir / "agents" / "b.toml", "model = 1\n");
  write_file(dir / "agents" / "a.toml", "modle = \"sluice/echo\"\n");
  CHECK_THROWS_WITH(load_project(dir.path()), Catch::StartsWith(file_in(dir, "a.toml") + ": "));
}
