// Group commit: StorageExecutor over the real backends, and over a scripted
// database for the failure paths sqlite cannot be made to take on demand.
#include "persistence/executor.hpp"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "tests/persistence/executor_support.hpp"
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

using namespace std::chrono_literals;

const SessionKey kKey{"agent", "one", "default"};

// Appends rather than `"s" + std::to_string(t)`: GCC 12 at -O3 reports a false
// -Wrestrict inside that operator+ (GCC bug 105329).
SessionKey session_of_thread(int t) {
  std::string session = "s";
  session += std::to_string(t);
  return SessionKey{"agent", "one", session};
}

TEST_CASE("run_sync hands back the work's result", "[executor]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  auto store = backend.make();
  StorageExecutor executor(store->open(), {});
  const auto claimed = executor.run_sync<ClaimResult>(
      [](Transaction& txn) { return txn.claim_session(kKey, node("node-a", "a1")); });
  REQUIRE(std::holds_alternative<ClaimResult>(claimed));
  CHECK(std::get<ClaimResult>(claimed).epoch == 1);

  const auto admitted = executor.run_sync<AdmitResult>(admit_job(kKey, {"node-a", 1}, "hi"));
  REQUIRE(std::holds_alternative<AdmitResult>(admitted));
  CHECK(std::get<AdmitResult>(admitted).record.sequence == 1);

  const auto fenced = executor.run_sync<AdmitResult>(admit_job(kKey, {"node-a", 7}, "hi"));
  REQUIRE(error_of(fenced) != nullptr);
  CHECK(error_of(fenced)->kind == StorageError::Kind::fenced);
}

TEST_CASE("concurrent submitters all complete, in per-session order", "[executor]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  auto store = backend.make();
  StorageExecutor executor(store->open(), {});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::vector<Fence> fences;
  for (int t = 0; t < kThreads; ++t) {
    const SessionKey key = session_of_thread(t);
    const auto claimed = executor.run_sync<ClaimResult>(
        [key](Transaction& txn) { return txn.claim_session(key, node("node-a", "a1")); });
    fences.push_back({"node-a", std::get<ClaimResult>(claimed).epoch});
  }

  Completions completions;
  std::mutex sequences_mutex;
  std::vector<std::set<int64_t>> sequences(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const SessionKey key = session_of_thread(t);
      for (int i = 0; i < kPerThread; ++i) {
        executor.submit<AdmitResult>(
            admit_job(key, fences[static_cast<size_t>(t)], "m"),
            [&, t](StorageResult<AdmitResult> result) {
              const auto* admitted = std::get_if<AdmitResult>(&result);
              if (admitted) {
                std::lock_guard lock(sequences_mutex);
                sequences[static_cast<size_t>(t)].insert(admitted->record.sequence);
              }
              completions.add(admitted != nullptr);
            });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(completions.wait_for(kThreads * kPerThread));
  CHECK(completions.ok() == kThreads * kPerThread);
  for (const auto& seen : sequences) {
    REQUIRE(seen.size() == kPerThread);
    CHECK(*seen.begin() == 1);
    CHECK(*seen.rbegin() == kPerThread);
  }
  const ExecutorStats stats = executor.stats();
  CHECK(stats.jobs == kThreads + kThreads * kPerThread);
  CHECK(stats.failed_commits == 0);
}

TEST_CASE("jobs submitted while a batch runs commit together", "[executor]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  auto store = backend.make();
  StorageExecutor executor(store->open(), {});
  const auto claimed = executor.run_sync<ClaimResult>(
      [](Transaction& txn) { return txn.claim_session(kKey, node("node-a", "a1")); });
  const Fence fence{"node-a", std::get<ClaimResult>(claimed).epoch};
  const uint64_t batches_before = executor.stats().batches;

  Completions completions;
  StorageGate gate(executor);
  for (int i = 0; i < 50; ++i) {
    executor.submit<AdmitResult>(admit_job(kKey, fence, "m"), [&](StorageResult<AdmitResult> r) {
      completions.add(std::holds_alternative<AdmitResult>(r));
    });
  }
  gate.open();
  REQUIRE(completions.wait_for(50));
  CHECK(completions.ok() == 50);
  const ExecutorStats stats = executor.stats();
  CHECK(stats.largest_batch == 50);
  CHECK(stats.batches == batches_before + 2);  // the gate's batch, then all 50 at once
  CHECK_THAT(executor.describe(), Catch::Contains("largest 50"));
}

TEST_CASE("a batch never holds more than max_batch jobs", "[executor]") {
  StorageExecutor executor(open_database(""), StorageExecutor::Options{10});
  Completions completions;
  StorageGate gate(executor);
  for (int i = 0; i < 25; ++i) {
    executor.submit<int>(
        [i](Transaction&) { return i; },
        [&](StorageResult<int> r) { completions.add(std::holds_alternative<int>(r)); });
  }
  gate.open();
  REQUIRE(completions.wait_for(25));
  CHECK(completions.ok() == 25);
  const ExecutorStats stats = executor.stats();
  CHECK(stats.largest_batch == 10);
  CHECK(stats.batches == 4);  // the gate's, then 10 + 10 + 5
  CHECK(stats.jobs == 26);
}

TEST_CASE("a failing job rolls back alone and its batch-mates commit", "[executor]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  auto store = backend.make();
  StorageExecutor executor(store->open(), {});
  const auto claimed = executor.run_sync<ClaimResult>(
      [](Transaction& txn) { return txn.claim_session(kKey, node("node-a", "a1")); });
  const Fence fence{"node-a", std::get<ClaimResult>(claimed).epoch};
  const Fence stale{"node-a", fence.epoch - 1};

  std::vector<std::optional<StorageResult<AdmitResult>>> results(4);
  std::vector<std::thread::id> finished_on(4);
  Completions completions;
  const auto keep = [&](size_t index) {
    return [&, index](StorageResult<AdmitResult> result) {
      results[index] = std::move(result);
      finished_on[index] = std::this_thread::get_id();
      completions.add(true);
    };
  };
  StorageGate gate(executor);
  executor.submit<AdmitResult>(admit_job(kKey, fence, "first"), keep(0));
  executor.submit<AdmitResult>(admit_job(kKey, stale, "stale"), keep(1));
  executor.submit<AdmitResult>(
      [fence](Transaction& txn) -> AdmitResult {
        admit_job(kKey, fence, "written, then abandoned")(txn);
        throw std::runtime_error("boom");
      },
      keep(2));
  executor.submit<AdmitResult>(admit_job(kKey, fence, "second"), keep(3));
  gate.open();
  REQUIRE(completions.wait_for(4));

  REQUIRE(std::holds_alternative<AdmitResult>(*results[0]));
  CHECK(std::get<AdmitResult>(*results[0]).record.sequence == 1);
  REQUIRE(error_of(*results[1]) != nullptr);
  CHECK(error_of(*results[1])->kind == StorageError::Kind::fenced);
  REQUIRE(error_of(*results[2]) != nullptr);
  CHECK(error_of(*results[2])->kind == StorageError::Kind::failure);
  CHECK(error_of(*results[2])->message == "boom");
  REQUIRE(std::holds_alternative<AdmitResult>(*results[3]));
  CHECK(std::get<AdmitResult>(*results[3]).record.sequence == 2);  // 2 was given back

  const auto listed = executor.run_sync<std::vector<SubmissionRecord>>([](Transaction& txn) {
    return txn.list_submissions(kKey, std::nullopt, Page{0, 100});
  });
  const auto& stored = std::get<std::vector<SubmissionRecord>>(listed);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].input_text == "first");
  CHECK(stored[1].input_text == "second");
  for (const auto& id : finished_on) {
    CHECK(id != std::this_thread::get_id());
    CHECK(id == finished_on[0]);
  }
}

// Each runs three jobs in one batch: a good admission, `middle`, another good
// one. Only `middle` may fail; the two others commit with sequences 1 and 2.
void expect_only_the_middle_job_fails(const Backend& backend,
                                      std::function<AdmitResult(Transaction&, const Fence&)> middle,
                                      StorageError::Kind kind, const std::string& message) {
  INFO("backend: " << backend.name);
  auto store = backend.make();
  StorageExecutor executor(store->open(), {});
  const auto claimed = executor.run_sync<ClaimResult>(
      [](Transaction& txn) { return txn.claim_session(kKey, node("node-a", "a1")); });
  const Fence fence{"node-a", std::get<ClaimResult>(claimed).epoch};

  std::vector<std::optional<StorageResult<AdmitResult>>> results(3);
  Completions completions;
  const auto keep = [&](size_t index) {
    return [&, index](StorageResult<AdmitResult> result) {
      results[index] = std::move(result);
      completions.add(true);
    };
  };
  {
    StorageGate gate(executor);
    executor.submit<AdmitResult>(admit_job(kKey, fence, "first"), keep(0));
    executor.submit<AdmitResult>([middle, fence](Transaction& txn) { return middle(txn, fence); },
                                 keep(1));
    executor.submit<AdmitResult>(admit_job(kKey, fence, "second"), keep(2));
  }
  REQUIRE(completions.wait_for(3));
  REQUIRE(std::holds_alternative<AdmitResult>(*results[0]));
  CHECK(std::get<AdmitResult>(*results[0]).record.sequence == 1);
  REQUIRE(error_of(*results[1]) != nullptr);
  CHECK(error_of(*results[1])->kind == kind);
  CHECK_THAT(error_of(*results[1])->message, Catch::Contains(message));
  REQUIRE(std::holds_alternative<AdmitResult>(*results[2]));
  CHECK(std::get<AdmitResult>(*results[2]).record.sequence == 2);

  const auto listed = executor.run_sync<std::vector<SubmissionRecord>>([](Transaction& txn) {
    return txn.list_submissions(kKey, std::nullopt, Page{0, 100});
  });
  const auto& stored = std::get<std::vector<SubmissionRecord>>(listed);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].input_text == "first");
  CHECK(stored[1].input_text == "second");
  CHECK(executor.stats().failed_commits == 0);
}

TEST_CASE("a job that breaks a constraint fails alone and its batch-mates commit", "[executor]") {
  // A server error aborts a Postgres transaction until it rolls back to a
  // savepoint; the batch must go on all the same.
  expect_only_the_middle_job_fails(
      GENERATE(from_range(backends())),
      [](Transaction& txn, const Fence& fence) {
        NewSubmission submission;
        submission.id = "sub_twice";
        submission.input_text = "written twice";
        txn.admit(kKey, fence, submission);
        return txn.admit(kKey, fence, submission);
      },
      StorageError::Kind::failure, "");
}

TEST_CASE("a job that fails after reading its own writes fails alone", "[executor]") {
  expect_only_the_middle_job_fails(
      GENERATE(from_range(backends())),
      [](Transaction& txn, const Fence& fence) -> AdmitResult {
        admit_job(kKey, fence, "written, read, then abandoned")(txn);
        const auto seen = txn.list_submissions(kKey, std::nullopt, Page{0, 100}).size();
        // Not a CHECK: Catch's assertions are not for the storage thread.
        throw std::runtime_error("changed its mind after reading " + std::to_string(seen));
      },
      StorageError::Kind::failure, "changed its mind after reading 2");
}

TEST_CASE("a patch that matches no row fails only its job", "[executor]") {
  expect_only_the_middle_job_fails(
      GENERATE(from_range(backends())),
      [](Transaction& txn, const Fence& fence) {
        const AdmitResult admitted = admit_job(kKey, fence, "patched wrongly")(txn);
        SessionMutation mutation;
        SubmissionPatch patch;
        patch.id = "sub_nobody";
        patch.state = SubmissionState::running;
        mutation.patches.push_back(patch);
        txn.mutate(kKey, fence, mutation);
        return admitted;
      },
      StorageError::Kind::failure, "sub_nobody");
}

TEST_CASE("a fenced job among others fails alone", "[executor][fence]") {
  expect_only_the_middle_job_fails(
      GENERATE(from_range(backends())),
      [](Transaction& txn, const Fence& fence) {
        admit_job(kKey, fence, "admitted, then fenced")(txn);
        return admit_job(kKey, Fence{fence.owner, fence.epoch + 1}, "stale")(txn);
      },
      StorageError::Kind::fenced, "is not owned by");
}

TEST_CASE("stop runs what is queued and refuses the rest", "[executor]") {
  auto executor = std::make_unique<StorageExecutor>(open_database(""), StorageExecutor::Options{});
  Completions completions;
  std::atomic<int> ran{0};
  const auto counted = [&](Transaction&) { return ++ran; };
  const auto record = [&](StorageResult<int> result) {
    completions.add(std::holds_alternative<int>(result));
  };

  StorageGate gate(*executor);
  for (int i = 0; i < 5; ++i) executor->submit<int>(counted, record);
  std::thread stopper([&] { executor->stop(); });

  // Probe until stop() has taken effect: a refused submission is answered at
  // once, on the submitting thread; the probes before that are queued work.
  int queued_probes = 0;
  bool refused = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    auto answered_here = std::make_shared<std::optional<StorageError::Kind>>();
    const auto submitter = std::this_thread::get_id();
    executor->submit<int>(counted, [&, answered_here, submitter](StorageResult<int> result) {
      if (std::this_thread::get_id() == submitter) {
        *answered_here = std::get<StorageError>(result).kind;
      } else {
        record(std::move(result));
      }
    });
    if (answered_here->has_value()) {
      CHECK(**answered_here == StorageError::Kind::stopped);
      refused = true;
    } else {
      ++queued_probes;
      std::this_thread::sleep_for(1ms);
    }
  }
  REQUIRE(refused);
  gate.open();
  stopper.join();

  CHECK(ran == 5 + queued_probes);
  REQUIRE(completions.wait_for(5 + queued_probes));
  CHECK(completions.ok() == 5 + queued_probes);
  const auto late = executor->run_sync<int>([](Transaction&) { return 1; });
  REQUIRE(error_of(late) != nullptr);
  CHECK(error_of(late)->kind == StorageError::Kind::stopped);
  executor.reset();  // a second stop (from the destructor) is harmless
}

TEST_CASE("a throwing completion callback does not stop the executor", "[executor]") {
  StorageExecutor executor(open_database(""), {});
  executor.submit<int>([](Transaction&) { return 1; },
                       [](StorageResult<int>) { throw std::runtime_error("careless callback"); });
  const auto after = executor.run_sync<int>([](Transaction&) { return 2; });
  REQUIRE(std::holds_alternative<int>(after));
  CHECK(std::get<int>(after) == 2);
}

// A database whose transactions only log what the executor asks of them.
struct Script {
  std::mutex mutex;
  std::vector<std::string> log;
  bool fail_commit = false;
  int retry_commits = 0;  // how many commits ask for their batch to run again
  void note(const std::string& event) {
    std::lock_guard lock(mutex);
    log.push_back(event);
  }
};

class ScriptedTransaction final : public Transaction {
 public:
  explicit ScriptedTransaction(Script& script) : script_(script) { script_.note("begin"); }
  void savepoint() override { script_.note("savepoint"); }
  void release_savepoint() override { script_.note("release"); }
  void rollback_to_savepoint() override { script_.note("rollback"); }
  void commit() override {
    script_.note("commit");
    if (script_.fail_commit) throw StorageFailure("disk full");
    if (script_.retry_commits > 0) {
      --script_.retry_commits;
      throw RetryBatch("assumed wrong");
    }
  }
  ClaimResult claim_session(const SessionKey&, const NodeIdentity&) override { unused(); }
  void release_session(const SessionKey&, const Fence&) override { unused(); }
  AdmitResult admit(const SessionKey&, const Fence&, const NewSubmission&) override { unused(); }
  std::vector<int64_t> mutate(const SessionKey&, const Fence&, const SessionMutation&) override {
    unused();
  }
  std::optional<SubmissionRecord> get_submission(const std::string&, const std::string&,
                                                 const std::string&) override {
    unused();
  }
  std::vector<SubmissionRecord> list_submissions(const SessionKey&, std::optional<SubmissionState>,
                                                 const Page&) override {
    unused();
  }
  std::vector<HistoryEntry> read_history(const SessionKey&, const Page&) override { unused(); }
  void register_node(const NodeIdentity&, int64_t) override { unused(); }
  bool renew_lease(const NodeIdentity&, int64_t) override { unused(); }
  void deregister_node(const NodeIdentity&) override { unused(); }
  std::vector<SessionKey> orphaned_sessions(const NodeIdentity&, int) override { unused(); }
  std::vector<NodeRecord> list_nodes() override { unused(); }
  std::vector<NodeWorkload> node_workloads() override { unused(); }
  std::vector<InstanceSession> instance_sessions(const std::string&, const std::string&) override {
    unused();
  }
  void create_run(const RunRecord&) override { unused(); }
  std::vector<int64_t> append_run_events(const std::string&, const std::string&,
                                         const std::vector<NewRunEvent>&,
                                         const std::optional<RunEnding>&) override {
    unused();
  }
  std::optional<RunRecord> get_run(const std::string&) override { unused(); }
  std::vector<StoredRunEvent> read_run_events(const std::string&, int64_t, int,
                                              const std::vector<std::string>&) override {
    unused();
  }
  std::vector<RunRecord> list_runs(const RunFilter&) override { unused(); }
  std::vector<RunRecord> interrupted_runs(const NodeIdentity&, int) override { unused(); }
  void delete_session_data(const SessionKey&, const Fence&, int64_t) override { unused(); }
  PurgeCounts purge_settled_before(int64_t) override { unused(); }

 private:
  [[noreturn]] static void unused() { throw std::logic_error("not part of this script"); }
  Script& script_;
};

class ScriptedDatabase final : public Database {
 public:
  explicit ScriptedDatabase(Script& script) : script_(script) {}
  std::unique_ptr<Transaction> begin() override {
    return std::make_unique<ScriptedTransaction>(script_);
  }
  std::string describe() const override { return "scripted"; }

 private:
  Script& script_;
};

TEST_CASE("completions run only after the commit", "[executor]") {
  Script script;
  {
    StorageExecutor executor(std::make_unique<ScriptedDatabase>(script), {});
    StorageGate gate(executor);
    for (int i = 0; i < 2; ++i) {
      executor.submit<int>(
          [&](Transaction&) {
            script.note("run");
            return 0;
          },
          [&](StorageResult<int>) { script.note("finish"); });
    }
    gate.open();
  }
  const std::vector<std::string> expected_batch = {"begin",     "savepoint", "run",     "release",
                                                   "savepoint", "run",       "release", "commit",
                                                   "finish",    "finish"};
  REQUIRE(script.log.size() >= expected_batch.size());
  CHECK(std::vector<std::string>(
            script.log.end() - static_cast<std::ptrdiff_t>(expected_batch.size()),
            script.log.end()) == expected_batch);
}

TEST_CASE("a failed commit fails every job of the batch", "[executor]") {
  Script script;
  script.fail_commit = true;
  StorageExecutor executor(std::make_unique<ScriptedDatabase>(script), {});
  std::vector<std::optional<StorageResult<int>>> results(3);
  Completions completions;
  {
    StorageGate gate(executor);
    for (size_t i = 0; i < results.size(); ++i) {
      executor.submit<int>(
          [i](Transaction&) -> int {
            if (i == 1) throw FencedError("lost it");
            return 1;
          },
          [&, i](StorageResult<int> result) {
            results[i] = std::move(result);
            completions.add(true);
          });
    }
  }
  REQUIRE(completions.wait_for(3));
  for (const auto& result : results) {
    REQUIRE(error_of(*result) != nullptr);
    CHECK(error_of(*result)->kind == StorageError::Kind::failure);
    CHECK_THAT(error_of(*result)->message, Catch::Contains("disk full"));
  }
  CHECK(executor.stats().failed_commits == 2);  // the gate's batch failed too
}

TEST_CASE("a batch asked to run again runs once more, then completes once", "[executor]") {
  Script script;
  script.retry_commits = 1;
  StorageExecutor executor(std::make_unique<ScriptedDatabase>(script), {});
  std::vector<StorageResult<int>> results;  // touched by the storage thread until stop()
  executor.submit<int>(
      [&](Transaction&) {
        script.note("run");
        return 7;
      },
      [&](StorageResult<int> result) { results.push_back(std::move(result)); });
  executor.stop();
  REQUIRE(results.size() == 1);
  REQUIRE(std::holds_alternative<int>(results[0]));
  CHECK(std::get<int>(results[0]) == 7);
  CHECK(script.log == std::vector<std::string>{"begin", "savepoint", "run", "release", "commit",
                                               "begin", "savepoint", "run", "release", "commit"});
  CHECK(executor.stats().retried_batches == 1);
  CHECK(executor.stats().failed_commits == 0);
  CHECK(executor.stats().jobs == 1);
}

TEST_CASE("a batch asked to run again a second time fails", "[executor]") {
  Script script;
  script.retry_commits = 2;
  StorageExecutor executor(std::make_unique<ScriptedDatabase>(script), {});
  const auto result = executor.run_sync<int>([](Transaction&) { return 7; });
  REQUIRE(error_of(result) != nullptr);
  CHECK(error_of(result)->kind == StorageError::Kind::failure);
  CHECK_THAT(error_of(result)->message, Catch::Contains("assumed wrong"));
  CHECK(executor.stats().retried_batches == 1);
  CHECK(executor.stats().failed_commits == 1);
}

}  // namespace
}  // namespace sluice::persistence::testing
