#include <catch2/catch.hpp>

#include <fstream>

#include "harness/project.hpp"
#include "support/temp_dir.hpp"
#include "workflows/workflow_file.hpp"

using sluice::harness::ProjectError;
using sluice::test::TempDir;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

sluice::harness::Project project_with_echo(const TempDir& dir) {
  write(dir / "agents" / "echo.toml", "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  return sluice::harness::load_project(dir.path());
}

std::string load_error(const TempDir& dir) {
  try {
    sluice::workflows::load_workflows(project_with_echo(dir));
  } catch (const ProjectError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("workflows/NAME.toml becomes a workflow with its agent, prompt and transports",
          "[workflows]") {
  TempDir dir;
  write(dir / "workflows" / "greet.toml",
        "agent = \"echo\"\nprompt = \"Hi {{payload.name}}\"\nexpose = [\"http\"]\n");
  write(dir / "workflows" / "quiet.toml", "agent = \"echo\"\nprompt = \"Hi\"\n");
  write(dir / "workflows" / "notes.txt", "not a workflow");
  auto table = sluice::workflows::load_workflows(project_with_echo(dir));
  REQUIRE(table.size() == 2);
  const auto& greet = *table.at("greet");
  CHECK(greet.expose_http);
  CHECK_FALSE(greet.expose_websocket);
  CHECK(greet.source_file == (dir / "workflows" / "greet.toml").string());
  REQUIRE(greet.check_payload);
  CHECK_FALSE(greet.check_payload({{"name", "Ada"}}));
  REQUIRE(greet.check_payload(nlohmann::json::object()));
  CHECK(greet.check_payload(nlohmann::json::object())->find("name") != std::string::npos);
  CHECK_FALSE(table.at("quiet")->expose_http);
}

TEST_CASE("a broken workflow file names the file and the key", "[workflows]") {
  SECTION("unknown agent") {
    TempDir dir;
    write(dir / "workflows" / "w.toml", "agent = \"nobody\"\nprompt = \"x\"\n");
    const std::string error = load_error(dir);
    CHECK(error.find("w.toml") != std::string::npos);
    CHECK(error.find("'agent'") != std::string::npos);
    CHECK(error.find("nobody") != std::string::npos);
  }
  SECTION("missing prompt") {
    TempDir dir;
    write(dir / "workflows" / "w.toml", "agent = \"echo\"\n");
    CHECK(load_error(dir).find("'prompt'") != std::string::npos);
  }
  SECTION("unknown key") {
    TempDir dir;
    write(dir / "workflows" / "w.toml", "agent = \"echo\"\nprompt = \"x\"\nmodel = \"y\"\n");
    CHECK(load_error(dir).find("'model'") != std::string::npos);
  }
  SECTION("bad placeholder") {
    TempDir dir;
    write(dir / "workflows" / "w.toml", "agent = \"echo\"\nprompt = \"{{payload.x\"\n");
    CHECK(load_error(dir).find("unclosed") != std::string::npos);
  }
  SECTION("bad transport") {
    TempDir dir;
    write(dir / "workflows" / "w.toml", "agent = \"echo\"\nprompt = \"x\"\nexpose = [\"ftp\"]\n");
    CHECK(load_error(dir).find("ftp") != std::string::npos);
  }
  SECTION("syntax error") {
    TempDir dir;
    write(dir / "workflows" / "w.toml", "agent = \n");
    CHECK(load_error(dir).find("line 1") != std::string::npos);
  }
  SECTION("invalid name") {
    TempDir dir;
    write(dir / "workflows" / "a:b.toml", "agent = \"echo\"\nprompt = \"x\"\n");
    CHECK(load_error(dir).find("not a valid workflow name") != std::string::npos);
  }
}

TEST_CASE("a workflow built in C++ must have a free, valid name and a function", "[workflows]") {
  sluice::workflows::WorkflowTable table;
  sluice::workflows::WorkflowDefinition workflow;
  workflow.name = "digest";
  workflow.run = [](sluice::workflows::WorkflowContext&) { return nlohmann::json(1); };
  sluice::workflows::add_code_workflow(table, workflow);
  CHECK(table.contains("digest"));
  CHECK_THROWS_AS(sluice::workflows::add_code_workflow(table, workflow), ProjectError);
  workflow.name = "a:b";
  CHECK_THROWS_AS(sluice::workflows::add_code_workflow(table, workflow), ProjectError);
  workflow.name = "other";
  workflow.run = nullptr;
  CHECK_THROWS_AS(sluice::workflows::add_code_workflow(table, workflow), ProjectError);
}
