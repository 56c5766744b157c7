// TOML to JSON for [model_options]: nested values survive, and values with no
// JSON form are reported with their full dotted key.
#include <catch2/catch.hpp>

#include "harness/toml_values.hpp"

using sluice::harness::toml_to_json;
using sluice::harness::TomlValueError;

TEST_CASE("nested tables and arrays convert to JSON", "[toml]") {
  const toml::table doc = toml::parse(R"(
    [model_options]
    temperature = 0.5
    stop = ["a", "b"]
    nested = { on = true, sizes = [1, 2, { deep = "yes" }] }
  )");
  const auto json = toml_to_json(*doc.get("model_options"), "model_options");
  CHECK(json == nlohmann::json::parse(R"({
    "temperature": 0.5,
    "stop": ["a", "b"],
    "nested": {"on": true, "sizes": [1, 2, {"deep": "yes"}]}
  })"));
  CHECK(json["nested"]["sizes"][0].is_number_integer());
}

TEST_CASE("values without a JSON form name their dotted key", "[toml]") {
  const toml::table doc = toml::parse(R"(
    [model_options]
    fine = 1
    list = [1, 07:32:00]
    ratio = nan
  )");
  const toml::table& options = *doc.get("model_options")->as_table();
  try {
    toml_to_json(*options.get("list"), "model_options.list");
    FAIL("a time inside an array converted");
  } catch (const TomlValueError& error) {
    CHECK(error.key == "model_options.list[1]");
    CHECK(error.problem == "time values are not supported here; use a string");
  }
  CHECK_THROWS_WITH(toml_to_json(*options.get("ratio"), "model_options.ratio"),
                    "model_options.ratio: nan and inf have no JSON form");
}
