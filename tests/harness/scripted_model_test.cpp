#include <catch2/catch.hpp>

#include <fstream>
#include <future>

#include "harness/model_runtime.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::harness;

namespace {

struct Outcome {
  std::optional<TurnResult> result;
  std::optional<sluice::PublicError> error;
};

class Collect : public TurnObserver {
 public:
  void on_text_delta(std::string_view) override {}
  void on_finished(TurnResult result) override { promise.set_value({std::move(result), {}}); }
  void on_failed(sluice::PublicError error, bool) override {
    promise.set_value({{}, std::move(error)});
  }
  std::promise<Outcome> promise;
};

Outcome run(Model& model, std::vector<ConversationItem> conversation) {
  auto observer = std::make_shared<Collect>();
  auto done = observer->promise.get_future();
  model.start_turn({"", std::move(conversation), {}}, observer);
  REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return done.get();
}

ConversationItem item(std::string type, std::string text = "", std::string result = "") {
  ConversationItem i;
  i.type = std::move(type);
  i.text = std::move(text);
  i.result_json = std::move(result);
  return i;
}

}  // namespace

TEST_CASE("sluice/scripted answers the Nth assistant turn with the Nth scripted turn",
          "[scripted]") {
  ModelRuntime runtime;
  const nlohmann::json options = {
      {"turns",
       {{{"text", "looking"},
         {"tool_calls", {{{"name", "bash"}, {"args", {{"command", "ls"}}}}}}},
        {{"text", "found {last_tool_result} for {last_user} ({users})"}}}}};
  auto model = runtime.make_model("sluice/scripted", options);

  const Outcome first = run(*model, {item("user", "list")});
  REQUIRE(first.result);
  CHECK(first.result->text == "looking");
  REQUIRE(first.result->tool_calls.size() == 1);
  CHECK(first.result->tool_calls[0].name == "bash");
  CHECK(nlohmann::json::parse(first.result->tool_calls[0].args_json)["command"] == "ls");
  CHECK(first.result->tool_calls[0].id == "call_0_0");

  const Outcome second = run(*model, {item("user", "list"), item("assistant", "looking"),
                                      item("tool_call"), item("tool_result", "", "\"a.txt\"")});
  REQUIRE(second.result);
  CHECK(second.result->text == "found a.txt for list (1)");  // a string result as its text
  CHECK(second.result->tool_calls.empty());

  const Outcome exhausted = run(*model, {item("user", "x"), item("assistant"), item("assistant")});
  REQUIRE(exhausted.error);
  CHECK(exhausted.error->type == "provider_error");
}

TEST_CASE("sluice/scripted reads a script file and checks its options", "[scripted]") {
  sluice::test::TempDir dir;
  std::ofstream(dir / "script.json") << R"({"turns":[{"text":"one"}],"loop":true})";
  ModelRuntime runtime;
  auto model = runtime.make_model("sluice/scripted", {{"script", (dir / "script.json").string()}});
  CHECK(run(*model, {item("user", "x"), item("assistant"), item("assistant")}).result->text ==
        "one");

  CHECK_THROWS_WITH(validate_model("sluice/scripted", nlohmann::json::object()),
                    Catch::Contains("needs script"));
  CHECK_THROWS_WITH(validate_model("sluice/scripted", {{"script", (dir / "none.json").string()}}),
                    Catch::Contains("model_options.script"));
  CHECK_THROWS_WITH(validate_model("sluice/scripted", {{"turns", {{{"txt", "x"}}}}}),
                    Catch::Contains("model_options.turns[0].txt"));
}
