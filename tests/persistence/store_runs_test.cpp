// Contract: workflow runs, their events and the scan for interrupted runs, on
// every backend; on Postgres, an owner and a coordinator racing on one run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

#include "persistence/postgres_database.hpp"
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kLiveLease = 60'000;
constexpr int64_t kExpiredLease = -1'000;

RunRecord run_record(const std::string& id, const std::string& workflow, int64_t started_at,
                     const NodeIdentity& owner) {
  RunRecord run;
  run.run_id = id;
  run.workflow_name = workflow;
  run.payload_json = R"({"order":7})";
  run.started_at_ms = started_at;
  run.owner_node = owner.node_id;
  run.owner_incarnation = owner.incarnation;
  return run;
}

NewRunEvent event(const std::string& type, int64_t timestamp = 1'000) {
  return NewRunEvent{type, timestamp, R"({"type":")" + type + R"("})"};
}

RunEnding completed(int64_t at, const std::string& result = R"({"ok":true})") {
  return RunEnding{false, result, std::nullopt, at};
}

RunEnding errored(int64_t at) {
  return RunEnding{true, std::nullopt, R"({"code":"interrupted"})", at};
}

void create(Fixture& f, const RunRecord& run) {
  in_transaction(*f.db, [&](Transaction& txn) { txn.create_run(run); });
}

std::vector<int64_t> append(Fixture& f, const std::string& run_id, const std::string& incarnation,
                            const std::vector<NewRunEvent>& events,
                            const std::optional<RunEnding>& ending = std::nullopt) {
  return in_transaction(*f.db, [&](Transaction& txn) {
    return txn.append_run_events(run_id, incarnation, events, ending);
  });
}

std::optional<RunRecord> get(Fixture& f, const std::string& run_id) {
  return in_transaction(*f.db, [&](Transaction& txn) { return txn.get_run(run_id); });
}

std::vector<StoredRunEvent> events_of(Fixture& f, const std::string& run_id, int64_t after = -1,
                                      int limit = 1000,
                                      const std::vector<std::string>& types = {}) {
  return in_transaction(
      *f.db, [&](Transaction& txn) { return txn.read_run_events(run_id, after, limit, types); });
}

std::vector<int64_t> indexes_of(const std::vector<StoredRunEvent>& events) {
  std::vector<int64_t> out;
  for (const StoredRunEvent& e : events) out.push_back(e.event_index);
  return out;
}

std::vector<std::string> ids_of(const std::vector<RunRecord>& runs) {
  std::vector<std::string> out;
  for (const RunRecord& run : runs) out.push_back(run.run_id);
  return out;
}

void register_node(Fixture& f, const NodeIdentity& me, int64_t lease_ms) {
  in_transaction(*f.db, [&](Transaction& txn) { txn.register_node(me, lease_ms); });
}

const NodeIdentity kOwner = node("node-a", "a1");

TEST_CASE("a run is created active and read back", "[store][runs]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  RunRecord record = run_record("workflow:orders:01", "orders", 1'700'000'000'000, kOwner);
  // What the store assigns is not taken from the caller.
  record.next_event_index = 9;
  create(f, record);

  const auto run = get(f, "workflow:orders:01");
  REQUIRE(run.has_value());
  CHECK(run->run_id == "workflow:orders:01");
  CHECK(run->workflow_name == "orders");
  CHECK(run->status == RunStatus::active);
  CHECK(run->payload_json == R"({"order":7})");
  CHECK(run->started_at_ms == 1'700'000'000'000);
  CHECK(run->ended_at_ms == 0);
  CHECK_FALSE(run->is_error);
  CHECK_FALSE(run->result_json.has_value());
  CHECK_FALSE(run->error_json.has_value());
  CHECK(run->owner_node == "node-a");
  CHECK(run->owner_incarnation == "a1");
  CHECK(run->next_event_index == 0);
  CHECK(events_of(f, "workflow:orders:01").empty());
  CHECK_FALSE(get(f, "workflow:orders:unknown").has_value());
  CHECK_THROWS_AS(create(f, record), StorageFailure);  // run ids are unique
}

TEST_CASE("events get the run's next indexes, across calls and transactions", "[store][runs]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  create(f, run_record("workflow:w:1", "w", 10, kOwner));
  create(f, run_record("workflow:w:2", "w", 11, kOwner));

  CHECK(append(f, "workflow:w:1", "a1", {event("started", 100), event("step", 101)}) ==
        std::vector<int64_t>{0, 1});
  // Two appends in one transaction, with another run's in between.
  const auto in_one = in_transaction(*f.db, [&](Transaction& txn) {
    auto first = txn.append_run_events("workflow:w:1", "a1", {event("step", 102)}, std::nullopt);
    txn.append_run_events("workflow:w:2", "a1", {event("started", 103)}, std::nullopt);
    auto second = txn.append_run_events("workflow:w:1", "a1",
                                        {event("step", 104), event("log", 105)}, std::nullopt);
    first.insert(first.end(), second.begin(), second.end());
    return first;
  });
  CHECK(in_one == std::vector<int64_t>{2, 3, 4});
  CHECK(append(f, "workflow:w:1", "a1", {}).empty());  // nothing to append: no index taken
  CHECK(append(f, "workflow:w:1", "a1", {event("log", 106)}) == std::vector<int64_t>{5});

  const auto stored = events_of(f, "workflow:w:1");
  REQUIRE(stored.size() == 6);
  CHECK(indexes_of(stored) == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(stored[0].type == "started");
  CHECK(stored[0].timestamp_ms == 100);
  CHECK(stored[0].data_json == R"({"type":"started"})");
  CHECK(stored[4].type == "log");
  CHECK(stored[4].timestamp_ms == 105);
  CHECK(get(f, "workflow:w:1")->next_event_index == 6);
  CHECK(get(f, "workflow:w:1")->status == RunStatus::active);
  CHECK(indexes_of(events_of(f, "workflow:w:2")) == std::vector<int64_t>{0});
}

TEST_CASE("an ending settles the run with its last events", "[store][runs]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  create(f, run_record("workflow:w:ok", "w", 10, kOwner));
  create(f, run_record("workflow:w:bad", "w", 11, kOwner));
  append(f, "workflow:w:ok", "a1", {event("started")});

  CHECK(append(f, "workflow:w:ok", "a1", {event("step"), event("completed")},
               completed(5'000, R"({"total":3})")) == std::vector<int64_t>{1, 2});
  const auto ok = get(f, "workflow:w:ok");
  REQUIRE(ok.has_value());
  CHECK(ok->status == RunStatus::completed);
  CHECK_FALSE(ok->is_error);
  CHECK(ok->result_json == std::optional<std::string>(R"({"total":3})"));
  CHECK_FALSE(ok->error_json.has_value());
  CHECK(ok->ended_at_ms == 5'000);
  CHECK(ok->next_event_index == 3);

  // An ending alone, with no event.
  CHECK(append(f, "workflow:w:bad", "a1", {}, errored(6'000)).empty());
  const auto bad = get(f, "workflow:w:bad");
  REQUIRE(bad.has_value());
  CHECK(bad->status == RunStatus::errored);
  CHECK(bad->is_error);
  CHECK_FALSE(bad->result_json.has_value());
  CHECK(bad->error_json == std::optional<std::string>(R"({"code":"interrupted"})"));
  CHECK(bad->ended_at_ms == 6'000);
  CHECK(bad->next_event_index == 0);
}

TEST_CASE("appends are fenced on an active run and its owner", "[store][runs][fence]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  create(f, run_record("workflow:w:1", "w", 10, kOwner));
  append(f, "workflow:w:1", "a1", {event("started")});

  SECTION("another incarnation of the owner") {
    CHECK_THROWS_AS(append(f, "workflow:w:1", "a2", {event("step")}), FencedError);
    CHECK_THROWS_AS(append(f, "workflow:w:1", "a2", {}, completed(1)), FencedError);
  }
  SECTION("a run that has ended") {
    append(f, "workflow:w:1", "a1", {}, completed(1));
    CHECK_THROWS_AS(append(f, "workflow:w:1", "a1", {event("late")}), FencedError);
    CHECK_THROWS_AS(append(f, "workflow:w:1", "a1", {}, errored(2)), FencedError);
    CHECK(get(f, "workflow:w:1")->status == RunStatus::completed);
    CHECK(get(f, "workflow:w:1")->ended_at_ms == 1);
  }
  SECTION("an unknown run") {
    CHECK_THROWS_AS(append(f, "workflow:w:none", "a1", {event("step")}), FencedError);
  }
  // A refused append wrote nothing, and the owner's next one continues.
  CHECK(indexes_of(events_of(f, "workflow:w:1")) == std::vector<int64_t>{0});
  if (get(f, "workflow:w:1")->status == RunStatus::active) {
    CHECK(get(f, "workflow:w:1")->next_event_index == 1);
    CHECK(append(f, "workflow:w:1", "a1", {event("step")}) == std::vector<int64_t>{1});
  }
}

TEST_CASE("read_run_events pages by index and filters by type", "[store][runs]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  create(f, run_record("workflow:w:1", "w", 10, kOwner));
  create(f, run_record("workflow:w:2", "w", 11, kOwner));
  // Types the SQL parameter encodings must carry as they are.
  const std::string quoted = R"(we"ird\type,{x})";
  append(f, "workflow:w:1", "a1",
         {event("step"), event("log"), event("step"), event(quoted), event("log"), event("done")});
  append(f, "workflow:w:2", "a1", {event("step")});

  CHECK(indexes_of(events_of(f, "workflow:w:1")) == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(indexes_of(events_of(f, "workflow:w:1", 1, 2)) == std::vector<int64_t>{2, 3});
  CHECK(indexes_of(events_of(f, "workflow:w:1", 4)) == std::vector<int64_t>{5});
  CHECK(events_of(f, "workflow:w:1", 5).empty());
  CHECK(events_of(f, "workflow:w:1", -1, 0).empty());
  CHECK(indexes_of(events_of(f, "workflow:w:1", -1, 1000, {"log"})) == std::vector<int64_t>{1, 4});
  CHECK(indexes_of(events_of(f, "workflow:w:1", 0, 2, {"log", "done", quoted})) ==
        std::vector<int64_t>{1, 3});
  CHECK(indexes_of(events_of(f, "workflow:w:1", 3, 1000, {"log", "done", quoted})) ==
        std::vector<int64_t>{4, 5});
  const auto odd = events_of(f, "workflow:w:1", -1, 1000, {quoted});
  REQUIRE(odd.size() == 1);
  CHECK(odd[0].type == quoted);
  CHECK(events_of(f, "workflow:w:1", -1, 1000, {"absent"}).empty());
  CHECK(events_of(f, "workflow:w:none").empty());
}

TEST_CASE("list_runs is newest first, filtered, and pages stably", "[store][runs]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  // Two runs share a start time: run id (descending) breaks the tie.
  create(f, run_record("workflow:orders:a", "orders", 100, kOwner));
  create(f, run_record("workflow:billing:b", "billing", 200, kOwner));
  create(f, run_record("workflow:orders:c", "orders", 300, kOwner));
  create(f, run_record("workflow:orders:d", "orders", 300, kOwner));
  create(f, run_record("workflow:billing:e", "billing", 400, kOwner));
  create(f, run_record("workflow:orders:f", "orders", 500, kOwner));
  append(f, "workflow:orders:c", "a1", {}, completed(600));
  append(f, "workflow:billing:e", "a1", {}, errored(600));
  append(f, "workflow:orders:a", "a1", {}, errored(600));

  const auto list = [&](RunFilter filter) {
    return ids_of(in_transaction(*f.db, [&](Transaction& txn) { return txn.list_runs(filter); }));
  };
  CHECK(list({}) == std::vector<std::string>{"workflow:orders:f", "workflow:billing:e",
                                             "workflow:orders:d", "workflow:orders:c",
                                             "workflow:billing:b", "workflow:orders:a"});
  RunFilter active;
  active.status = RunStatus::active;
  CHECK(list(active) ==
        std::vector<std::string>{"workflow:orders:f", "workflow:orders:d", "workflow:billing:b"});
  RunFilter orders;
  orders.workflow_name = "orders";
  CHECK(list(orders) == std::vector<std::string>{"workflow:orders:f", "workflow:orders:d",
                                                 "workflow:orders:c", "workflow:orders:a"});
  RunFilter errored_orders;
  errored_orders.workflow_name = "orders";
  errored_orders.status = RunStatus::errored;
  CHECK(list(errored_orders) == std::vector<std::string>{"workflow:orders:a"});
  RunFilter none;
  none.workflow_name = "unknown";
  CHECK(list(none).empty());
  RunFilter two;
  two.limit = 2;
  CHECK(list(two).size() == 2);

  // Paging by cursor, while new runs arrive between pages.
  int arrivals = 0;
  for (const RunFilter& filter : {RunFilter{}, orders}) {
    const std::vector<std::string> expected = list(filter);
    RunFilter page = filter;
    page.limit = 2;
    std::vector<std::string> seen;
    for (;;) {
      const auto runs =
          in_transaction(*f.db, [&](Transaction& txn) { return txn.list_runs(page); });
      for (const RunRecord& run : runs) seen.push_back(run.run_id);
      if (runs.empty()) break;
      page.before = RunCursor{runs.back().started_at_ms, runs.back().run_id};
      // Newer than everything listed: never part of a later page.
      ++arrivals;
      create(f, run_record("workflow:orders:new" + std::to_string(arrivals), "orders",
                           1'000 + arrivals, kOwner));
    }
    CHECK(seen == expected);
  }
}

TEST_CASE("interrupted_runs finds active runs whose owner is gone, oldest first",
          "[store][runs][lease]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity me = node("node-m", "m2");
  const NodeIdentity my_previous_run = node("node-m", "m1");
  const NodeIdentity expired = node("node-x", "x1");
  const NodeIdentity live = node("node-y", "y1");
  const NodeIdentity replaced = node("node-r", "r1");
  const NodeIdentity unregistered = node("node-z", "z1");
  register_node(f, me, kLiveLease);
  register_node(f, expired, kExpiredLease);
  register_node(f, live, kLiveLease);
  register_node(f, node("node-r", "r2"), kLiveLease);  // node-r restarted

  create(f, run_record("workflow:w:unregistered", "w", 10, unregistered));
  create(f, run_record("workflow:w:previous", "w", 20, my_previous_run));
  create(f, run_record("workflow:w:expired", "w", 30, expired));
  create(f, run_record("workflow:w:replaced", "w", 40, replaced));
  create(f, run_record("workflow:w:live", "w", 5, live));
  create(f, run_record("workflow:w:mine", "w", 6, me));
  // A dead owner's run that already ended needs nothing.
  create(f, run_record("workflow:w:ended", "w", 1, expired));
  append(f, "workflow:w:ended", "x1", {}, completed(2));

  const auto interrupted = [&](const NodeIdentity& seen_by, int limit = 100) {
    return ids_of(in_transaction(
        *f.db, [&](Transaction& txn) { return txn.interrupted_runs(seen_by, limit); }));
  };
  CHECK(interrupted(me) == std::vector<std::string>{"workflow:w:unregistered",
                                                    "workflow:w:previous", "workflow:w:expired",
                                                    "workflow:w:replaced"});
  CHECK(interrupted(me, 2) ==
        std::vector<std::string>{"workflow:w:unregistered", "workflow:w:previous"});
  const auto full =
      in_transaction(*f.db, [&](Transaction& txn) { return txn.interrupted_runs(me, 1); });
  REQUIRE(full.size() == 1);
  CHECK(full[0].owner_incarnation == "z1");
  CHECK(full[0].status == RunStatus::active);

  // Once ended (by a coordinator, under the dead owner's incarnation), a run
  // is no longer interrupted.
  append(f, "workflow:w:expired", "x1", {event("interrupted")}, errored(50));
  // Once the live node's lease lapses, its run is interrupted too.
  register_node(f, live, kExpiredLease);
  CHECK(interrupted(me) == std::vector<std::string>{"workflow:w:live", "workflow:w:unregistered",
                                                    "workflow:w:previous", "workflow:w:replaced"});
  // Symmetric: seen by the other incarnation, "mine" is interrupted and
  // "previous" is not.
  const auto seen_by_previous = interrupted(my_previous_run);
  CHECK(std::count(seen_by_previous.begin(), seen_by_previous.end(), "workflow:w:mine") == 1);
  CHECK(std::count(seen_by_previous.begin(), seen_by_previous.end(), "workflow:w:previous") == 0);
}

// --- Postgres: two nodes on one run -----------------------------------------------------

std::unique_ptr<PostgresDatabase> connect(const PostgresTestSchema& schema) {
  return PostgresDatabase::connect(schema.url(), 5s);
}

// What one side of a race got: its indexes, or that it was fenced.
struct Outcome {
  bool fenced = false;
  std::vector<int64_t> indexes;
  std::string failure;  // anything else
};

Outcome attempt(Transaction& txn, const std::string& run_id, const std::vector<NewRunEvent>& events,
                const std::optional<RunEnding>& ending) {
  Outcome out;
  try {
    out.indexes = txn.append_run_events(run_id, "a1", events, ending);
    txn.commit();
  } catch (const FencedError&) {
    out.fenced = true;
  } catch (const std::exception& e) {
    out.failure = e.what();
  }
  return out;
}

TEST_CASE("postgres: an append waits for a concurrent ending and is then fenced",
          "[postgres][runs][fence]") {
  const PostgresTestSchema schema;
  const auto owner_db = connect(schema);
  const auto coordinator_db = connect(schema);
  in_transaction(*owner_db, [&](Transaction& txn) {
    txn.create_run(run_record("workflow:w:1", "w", 10, kOwner));
    txn.append_run_events("workflow:w:1", "a1", {event("started")}, std::nullopt);
  });

  const bool coordinator_first = GENERATE(true, false);
  INFO("the coordinator ends the run first: " << coordinator_first);
  auto& first_db = coordinator_first ? *coordinator_db : *owner_db;
  auto& second_db = coordinator_first ? *owner_db : *coordinator_db;
  const std::vector<NewRunEvent> first_events =
      coordinator_first ? std::vector<NewRunEvent>{event("interrupted")}
                        : std::vector<NewRunEvent>{event("step"), event("completed")};
  const std::optional<RunEnding> first_ending = coordinator_first ? errored(900) : completed(900);
  const std::vector<NewRunEvent> second_events =
      coordinator_first ? std::vector<NewRunEvent>{event("step")}
                        : std::vector<NewRunEvent>{event("interrupted")};
  const std::optional<RunEnding> second_ending =
      coordinator_first ? std::nullopt : std::optional<RunEnding>(errored(901));

  const auto first = first_db.begin();
  const auto first_indexes =
      first->append_run_events("workflow:w:1", "a1", first_events, first_ending);
  // The second writer blocks on the run's row until the first commits.
  std::atomic<bool> done{false};
  Outcome second;
  std::thread racer([&] {
    const auto txn = second_db.begin();
    second = attempt(*txn, "workflow:w:1", second_events, second_ending);
    done = true;
  });
  std::this_thread::sleep_for(300ms);
  const bool waited = !done;
  first->commit();
  racer.join();

  CHECK(waited);
  CHECK(second.failure.empty());
  CHECK(second.fenced);
  CHECK(first_indexes ==
        (coordinator_first ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 2}));
  const auto run =
      in_transaction(*owner_db, [&](Transaction& txn) { return txn.get_run("workflow:w:1"); });
  REQUIRE(run.has_value());
  CHECK(run->status == (coordinator_first ? RunStatus::errored : RunStatus::completed));
  CHECK(run->ended_at_ms == 900);
  CHECK(run->next_event_index == static_cast<int64_t>(1 + first_events.size()));
}

TEST_CASE("postgres: an owner appending while a coordinator ends the run, raced",
          "[postgres][runs][fence]") {
  const PostgresTestSchema schema;
  const auto owner_db = connect(schema);
  const auto coordinator_db = connect(schema);
  int owner_wins = 0;
  int coordinator_wins = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string run_id = "workflow:w:" + std::to_string(round);
    in_transaction(*owner_db, [&](Transaction& txn) {
      txn.create_run(run_record(run_id, "w", round, kOwner));
    });
    Outcome owner;
    Outcome coordinator;
    std::latch start(2);
    std::thread owner_thread([&] {
      const auto txn = owner_db->begin();
      start.arrive_and_wait();
      owner = attempt(*txn, run_id, {event("step"), event("completed")}, completed(900));
    });
    std::thread coordinator_thread([&] {
      const auto txn = coordinator_db->begin();
      start.arrive_and_wait();
      coordinator = attempt(*txn, run_id, {event("interrupted")}, errored(901));
    });
    owner_thread.join();
    coordinator_thread.join();

    INFO("round " << round);
    CHECK(owner.failure.empty());
    CHECK(coordinator.failure.empty());
    // Exactly one wins; the run and its events are the winner's alone.
    REQUIRE(owner.fenced != coordinator.fenced);
    const auto run =
        in_transaction(*owner_db, [&](Transaction& txn) { return txn.get_run(run_id); });
    const auto stored = in_transaction(
        *owner_db, [&](Transaction& txn) { return txn.read_run_events(run_id, -1, 100, {}); });
    REQUIRE(run.has_value());
    if (coordinator.fenced) {
      ++owner_wins;
      CHECK(owner.indexes == std::vector<int64_t>{0, 1});
      CHECK(run->status == RunStatus::completed);
      CHECK(stored.size() == 2);
    } else {
      ++coordinator_wins;
      CHECK(coordinator.indexes == std::vector<int64_t>{0});
      CHECK(run->status == RunStatus::errored);
      REQUIRE(stored.size() == 1);
      CHECK(stored[0].type == "interrupted");
    }
  }
  CHECK(owner_wins + coordinator_wins == 20);
}

}  // namespace
}  // namespace sluice::persistence::testing
