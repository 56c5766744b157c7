// Storage-layer admission throughput, Postgres against file SQLite: producer
// threads admitting through StorageExecutor into already-claimed sessions, a
// bounded number in flight per thread (the storage run of storage_bench.cpp),
// on each backend in alternating rounds; the medians are compared. Target for
// later: Postgres within 2x of file SQLite.
//
//   storage_pg_bench --url=postgres://... [--admissions=N] [--threads=K]
//                    [--in-flight=M] [--sessions=S] [--rounds=R]
//
// Each round uses sessions of its own, so the Postgres database may be reused
// (scripts/with-postgres.sh bench... starts a throwaway one: pass
// --url="$SLUICE_TEST_POSTGRES_URL" through sh -c).
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <semaphore>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "persistence/executor.hpp"
#include "persistence/open_database.hpp"

namespace {

using namespace sluice;
using namespace sluice::persistence;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  int64_t admissions = 50'000;
  int threads = 4;
  int in_flight = 256;  // per producer thread
  int sessions = 1'000;
  int rounds = 3;
};

Options parse(int argc, char** argv) {
  std::map<std::string, std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string::npos) {
      throw std::invalid_argument("expected --name=value, got " + arg);
    }
    given[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
  }
  Options options;
  const auto take = [&](const char* name, auto& field) {
    const auto found = given.find(name);
    if (found == given.end()) return;
    if constexpr (std::is_same_v<std::decay_t<decltype(field)>, std::string>) {
      field = found->second;
    } else {
      field = static_cast<std::decay_t<decltype(field)>>(std::stoll(found->second));
    }
    given.erase(found);
  };
  take("url", options.url);
  take("admissions", options.admissions);
  take("threads", options.threads);
  take("in-flight", options.in_flight);
  take("sessions", options.sessions);
  take("rounds", options.rounds);
  if (!given.empty()) throw std::invalid_argument("unknown option --" + given.begin()->first);
  if (options.url.empty()) throw std::invalid_argument("--url=postgres://... is required");
  return options;
}

const std::string kInput = "Summarise the attached ticket and propose a reply to the customer.";

struct Run {
  double admissions_per_second = 0;
  double mean_batch = 0;
  int64_t failed = 0;
};

Run admit_rate(std::unique_ptr<Database> database, const Options& options) {
  StorageExecutor executor(std::move(database), {});
  const NodeIdentity me{"bench-node", new_ulid(), ""};
  const std::string round = new_ulid();
  std::vector<SessionKey> keys;
  for (int i = 0; i < options.sessions; ++i) {
    keys.push_back(SessionKey{"bench", round + "-" + std::to_string(i), "default"});
  }
  const auto claimed = executor.run_sync<std::vector<Fence>>([&](Transaction& txn) {
    std::vector<Fence> fences;
    for (const SessionKey& key : keys)
      fences.push_back({me.node_id, txn.claim_session(key, me).epoch});
    return fences;
  });
  if (!std::holds_alternative<std::vector<Fence>>(claimed)) {
    throw std::runtime_error("claiming sessions failed: " +
                             std::get<StorageError>(claimed).message);
  }
  const auto& fences = std::get<std::vector<Fence>>(claimed);
  const ExecutorStats before = executor.stats();

  std::atomic<int64_t> failed{0};
  const int64_t per_thread = options.admissions / options.threads;
  // Completions may still be inside release() when a producer has taken its
  // last slot back, so the semaphores must outlive the storage thread.
  std::vector<std::unique_ptr<std::counting_semaphore<>>> in_flight;
  for (int t = 0; t < options.threads; ++t) {
    in_flight.push_back(std::make_unique<std::counting_semaphore<>>(options.in_flight));
  }
  const auto start = Clock::now();
  std::vector<std::thread> producers;
  for (int t = 0; t < options.threads; ++t) {
    producers.emplace_back([&, t] {
      std::counting_semaphore<>& slots = *in_flight[static_cast<size_t>(t)];
      for (int64_t i = 0; i < per_thread; ++i) {
        slots.acquire();
        const size_t session = static_cast<size_t>((t * per_thread + i) % options.sessions);
        NewSubmission submission;
        submission.id = new_id("sub_");
        submission.input_text = kInput;
        submission.accepted_at_ms = 1'700'000'000'000;
        executor.submit<AdmitResult>(
            [&key = keys[session], &fence = fences[session], submission = std::move(submission)](
                Transaction& txn) { return txn.admit(key, fence, submission); },
            [&](StorageResult<AdmitResult> result) {
              if (!std::holds_alternative<AdmitResult>(result)) ++failed;
              slots.release();
            });
      }
      for (int i = 0; i < options.in_flight; ++i) slots.acquire();  // wait for the tail
    });
  }
  for (auto& producer : producers) producer.join();
  Run run;
  run.admissions_per_second = static_cast<double>(per_thread * options.threads) /
                              std::chrono::duration<double>(Clock::now() - start).count();
  const ExecutorStats after = executor.stats();
  const auto batches = after.batches - before.batches;
  run.mean_batch = batches ? static_cast<double>(after.jobs - before.jobs) / batches : 0.0;
  run.failed = failed;
  executor.stop();
  return run;
}

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sluice-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    const std::string dir = make_temp_dir();
    std::printf("admissions: %lld per round, %d threads x %d in flight, %d sessions\n\n",
                static_cast<long long>(options.admissions), options.threads, options.in_flight,
                options.sessions);
    std::vector<double> sqlite_rates, postgres_rates;
    int64_t failed = 0;
    for (int round = 1; round <= options.rounds; ++round) {
      const std::string path = dir + "/storage.db";
      const Run sqlite = admit_rate(open_database(path), options);
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
      const Run postgres = admit_rate(open_database(options.url), options);
      sqlite_rates.push_back(sqlite.admissions_per_second);
      postgres_rates.push_back(postgres.admissions_per_second);
      failed += sqlite.failed + postgres.failed;
      std::printf(
          "round %d: sqlite file %8.0f admissions/s (mean batch %.0f) | postgres %8.0f "
          "admissions/s (mean batch %.0f)\n",
          round, sqlite.admissions_per_second, sqlite.mean_batch, postgres.admissions_per_second,
          postgres.mean_batch);
    }
    std::filesystem::remove_all(dir);
    const double sqlite_rate = median(sqlite_rates);
    const double postgres_rate = median(postgres_rates);
    std::printf("\nmedians over %d rounds\n", options.rounds);
    std::printf("  sqlite file (WAL, synchronous=FULL): %9.0f admissions/s\n", sqlite_rate);
    std::printf("  postgres                           : %9.0f admissions/s\n", postgres_rate);
    std::printf("  sqlite / postgres: %.2fx (target <= 2x: %s)\n", sqlite_rate / postgres_rate,
                sqlite_rate <= 2 * postgres_rate ? "met" : "NOT met");
    if (failed != 0) std::printf("  %lld admissions FAILED\n", static_cast<long long>(failed));
    return failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "storage_pg_bench: %s\n", e.what());
    return 2;
  }
}
