#include <catch2/catch.hpp>

#include "workflows/prompt_template.hpp"

using sluice::workflows::check_prompt_template;
using sluice::workflows::render_prompt;
using nlohmann::json;

TEST_CASE("placeholders are filled from the payload", "[workflows]") {
  const json payload = {{"name", "Ada"}, {"age", 36}, {"team", {{"lead", "Grace"}}}};
  CHECK(render_prompt("Hi {{payload.name}}!", payload).text == "Hi Ada!");
  CHECK(render_prompt("{{ payload.age }} years", payload).text == "36 years");
  CHECK(render_prompt("lead: {{payload.team.lead}}", payload).text == "lead: Grace");
  CHECK(render_prompt("team: {{payload.team}}", payload).text == R"(team: {"lead":"Grace"})");
  CHECK(render_prompt("all: {{payload}}", json("x")).text == "all: x");
  CHECK(render_prompt("no placeholders", nullptr).text == "no placeholders");
}

TEST_CASE("a missing field is a clear problem, naming the field", "[workflows]") {
  auto rendered = render_prompt("Hi {{payload.name}} of {{payload.team.size}}",
                                json{{"name", "Ada"}, {"team", json::object()}});
  REQUIRE(rendered.problem);
  CHECK(rendered.problem->find("team.size") != std::string::npos);
  CHECK(rendered.text.empty());
  CHECK(render_prompt("{{payload.name}}", nullptr).problem);
  CHECK(render_prompt("{{payload.name.first}}", json{{"name", "Ada"}}).problem);
}

TEST_CASE("a malformed template is found at load time", "[workflows]") {
  CHECK_FALSE(check_prompt_template("Hi {{payload.name}}"));
  CHECK(check_prompt_template("Hi {{payload.name"));
  CHECK(check_prompt_template("Hi {{user.name}}"));
  CHECK(check_prompt_template("Hi {{payloadx}}"));
}
