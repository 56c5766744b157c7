// Group commit: StorageExecutor over the real backends, and over a scripted
// database for the failure paths sqlite cannot be made to take on demand.
#include "persistence/executor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <set>
#include <thread>

#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

using namespace std::chrono_literals;

// Counts completions; waits for a number of them with a timeout so a broken
// executor fails the test instead of hanging it.
class Completions {
 public:
  void add(bool ok) {
    std::lock_guard lock(mutex_);
    ++done_;
    ok_ += ok ? 1 : 0;
    changed_.notify_all();
  }
  bool wait_for(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 30s, [&] { return done_ >= count; });
  }
  int ok() const {
    std::lock_guard lock(mutex_);
    return ok_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int done_ = 0;
  int ok_ = 0;
};

// Holds the storage thread inside a job, so that everything submitted meanwhile
// lands in the next batch together.
class StorageGate {
 public:
  explicit StorageGate(StorageExecutor& executor) {
    auto started = std::make_shared<std::promise<void>>();
    auto started_future = started->get_future();
    executor.submit<int>(
        [started, opened = opened_future_](Transaction&) {
          started->set_value();
          opened.wait();
          return 0;
        },
        [](StorageResult<int>) {});
    started_future.wait();
  }
  ~StorageGate() { open(); }
  void open() {
    if (!is_open_) opened_.set_value();
    is_open_ = true;
  }

 private:
  std::promise<void> opened_;
  std::shared_future<void> opened_future_ = opened_.get_future().share();
  bool is_open_ = false;
};

std::function<AdmitResult(Transaction&)> admit_job(const SessionKey& key, const Fence& fence,
                                                   const std::string& text) {
  return [key, fence, text](Transaction& txn) {
    NewSubmission submission;
    submission.id = new_id("sub_");
    submission.input_text = text;
    return txn.admit(key, fence, submission);
  };
}

template <class R>
const StorageError* error_of(const StorageResult<R>& result) {
  return std::get_if<StorageError>(&result);
}

const SessionKey kKey{"agent", "one", "default"};

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
    const SessionKey key{"agent", "one", "s" + std::to_string(t)};
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
      const SessionKey key{"agent", "one", "s" + std::to_string(t)};
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

}  // namespace
}  // namespace sluice::persistence::testing
