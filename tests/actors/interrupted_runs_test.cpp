// A workflow run whose node is gone is ended by the coordinator of a live node,
// never replayed: run_resume then an errored run_end, and the node is told.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "actors/actor_stack.hpp"
#include "core/clock.hpp"

using namespace sluice;
using namespace sluice::test;
using namespace sluice::persistence;
using nlohmann::json;

namespace {

RunRecord make_run(const std::string& owner_node, const std::string& incarnation,
                   int64_t started_at_ms) {
  RunRecord run;
  run.run_id = "workflow:w:" + new_ulid();
  run.workflow_name = "w";
  run.payload_json = "null";
  run.started_at_ms = started_at_ms;
  run.owner_node = owner_node;
  run.owner_incarnation = incarnation;
  return run;
}

// What on_run_ended was told, from the coordinator's thread.
struct Ended {
  std::mutex mutex;
  std::vector<std::pair<std::string, int64_t>> calls;
  std::vector<std::pair<std::string, int64_t>> snapshot() {
    std::lock_guard lock(mutex);
    return calls;
  }
};

}  // namespace

TEST_CASE("runs of lost nodes are ended with run_resume and an errored run_end") {
  ActorStack stack(/*model_delay_ms=*/0);
  const int64_t started = now_ms() - 5000;
  const RunRecord lost = make_run("gone-node", "gone-incarnation", started);
  const RunRecord earlier_me = make_run(stack.node().node_id, "previous-incarnation", started);
  const RunRecord live = make_run(stack.node().node_id, stack.node().incarnation, started);
  stack.sync<bool>([&](Transaction& txn) {
    for (const RunRecord* run : {&lost, &earlier_me, &live}) txn.create_run(*run);
    NewRunEvent start{"run_start", started,
                      json{{"type", "run_start"}, {"runId", lost.run_id}}.dump()};
    txn.append_run_events(lost.run_id, lost.owner_incarnation, {start}, std::nullopt);
    return true;
  });

  auto ended = std::make_shared<Ended>();
  actors::CoordinatorOptions options;
  options.reclaim_every = std::chrono::milliseconds(50);
  options.on_run_ended = [ended](const std::string& run_id, int64_t last_index) {
    std::lock_guard lock(ended->mutex);
    ended->calls.emplace_back(run_id, last_index);
  };
  stack.start_coordinator(options);

  for (int i = 0; i < 500 && ended->snapshot().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto calls = ended->snapshot();
  const std::map<std::string, int64_t> last_index(calls.begin(), calls.end());
  CHECK(calls.size() == 2);
  CHECK(last_index == std::map<std::string, int64_t>{{lost.run_id, 2}, {earlier_me.run_id, 1}});

  const auto record = stack.sync<std::optional<RunRecord>>(
      [&](Transaction& txn) { return txn.get_run(lost.run_id); });
  REQUIRE(record);
  CHECK(record->status == RunStatus::errored);
  CHECK(record->is_error);
  CHECK(record->ended_at_ms >= started + 5000);
  REQUIRE(record->error_json);
  const json error = json::parse(*record->error_json);
  CHECK(error["type"] == "internal_error");
  CHECK(error["meta"] == json{{"reason", "node_lost"}, {"runId", lost.run_id}});
  CHECK(error["message"].get<std::string>().find("(gone-node)") != std::string::npos);

  const auto events = stack.sync<std::vector<StoredRunEvent>>(
      [&](Transaction& txn) { return txn.read_run_events(lost.run_id, -1, 100, {}); });
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "run_start");
  CHECK(events[1].type == "run_resume");
  CHECK(events[2].type == "run_end");
  const json resume = json::parse(events[1].data_json);
  CHECK(resume["runId"] == lost.run_id);
  CHECK(resume["timestamp"] == iso8601(events[1].timestamp_ms));
  CHECK_FALSE(resume.contains("eventIndex"));
  const json end = json::parse(events[2].data_json);
  CHECK(end["runId"] == lost.run_id);
  CHECK(end["result"].is_null());
  CHECK(end["isError"] == true);
  CHECK(end["error"] == error);
  CHECK(end["durationMs"] == record->ended_at_ms - started);

  // A run whose owner is alive is left alone.
  const auto untouched = stack.sync<std::optional<RunRecord>>(
      [&](Transaction& txn) { return txn.get_run(live.run_id); });
  REQUIRE(untouched);
  CHECK(untouched->status == RunStatus::active);
  // Each run is ended once, though the scan goes on.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(ended->snapshot().size() == 2);
}
