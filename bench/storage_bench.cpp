// Storage throughput: what group commit buys. On file SQLite databases set up
// exactly as the server sets them up (WAL, synchronous=FULL, migrated schema):
//  - raw: prepared INSERTs of submission rows, 100 per transaction, with the
//    rows either all in one session (append-only indexes: the best case) or
//    spread round-robin over the same sessions as the storage run (the same
//    index pages get touched as by real admissions); and 1 row per transaction;
//  - storage layer: producer threads admitting through StorageExecutor into
//    already-claimed sessions, a bounded number in flight per thread.
// Load on a shared machine drifts, so raw and storage runs alternate for a few
// rounds and the medians are compared. Target: the storage layer reaches at
// least half the raw 100-rows-per-transaction rate.
//
// With --postgres-url, each round also admits through the same executor into
// PostgreSQL, and the medians compare it with file SQLite (target for the
// cluster: within 2x). scripts/with-postgres.sh starts a throwaway server and
// names it in SLUICE_TEST_POSTGRES_URL; from the source folder (one line):
//   scripts/with-postgres.sh sh -c
//     'build/bench/storage_bench --postgres-url="$SLUICE_TEST_POSTGRES_URL"'
// A Postgres batch that had to run a second time statement by statement
// (postgres_batch_transaction.hpp) is counted as "retried"; here there should
// be none.
//
//   storage_bench [--rows=N] [--single-rows=N] [--admissions=N] [--threads=K]
//                 [--in-flight=M] [--sessions=S] [--rounds=R] [--dir=PATH]
//                 [--postgres-url=URL]
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
#include "persistence/payload_codec.hpp"
#include "persistence/sqlite_database.hpp"

namespace {

using namespace sluice;
using namespace sluice::persistence;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t rows = 100'000;
  int64_t single_rows = 1'000;
  int64_t admissions = 200'000;
  int threads = 4;
  int in_flight = 256;  // per producer thread
  int sessions = 1'000;
  int rounds = 3;
  std::string dir;           // a fresh temporary folder when empty
  std::string postgres_url;  // also measure PostgreSQL when set
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
  take("rows", options.rows);
  take("single-rows", options.single_rows);
  take("admissions", options.admissions);
  take("threads", options.threads);
  take("in-flight", options.in_flight);
  take("sessions", options.sessions);
  take("rounds", options.rounds);
  take("dir", options.dir);
  take("postgres-url", options.postgres_url);
  if (!given.empty()) throw std::invalid_argument("unknown option --" + given.begin()->first);
  return options;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

const std::string kInput = "Summarise the attached ticket and propose a reply to the customer.";

SessionKey session_key(int index) {
  return SessionKey{"bench", "instance-" + std::to_string(index), "default"};
}

// The same INSERT, with the same columns, that an admission performs; row i goes
// to session i % sessions with that session's next sequence.
double raw_insert_rate(const std::string& path, int64_t rows, int64_t rows_per_transaction,
                       int sessions) {
  auto db = SqliteDatabase::open_file(path);
  sqlite::Connection& connection = db->connection();
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) ids.push_back(new_id("sub_"));
  std::vector<SessionKey> keys;
  std::vector<std::string> key_texts;
  for (int i = 0; i < sessions; ++i) {
    keys.push_back(session_key(i));
    key_texts.push_back(keys.back().str());
  }
  std::vector<int64_t> sequences(static_cast<size_t>(sessions), 0);
  std::string input;
  encode_submission_input(kInput, input);

  const auto start = Clock::now();
  for (int64_t first = 0; first < rows; first += rows_per_transaction) {
    connection.exec("BEGIN IMMEDIATE");
    const int64_t end = std::min(rows, first + rows_per_transaction);
    for (int64_t i = first; i < end; ++i) {
      const auto session = static_cast<size_t>(i % sessions);
      sqlite::Statement insert = connection.prepare(
          "INSERT INTO submissions (id, session_key, agent, instance, session, sequence, kind, "
          "dispatch_id, state, input, accepted_at_ms) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'direct', NULL, 'queued', ?7, ?8)");
      insert.bind(1, ids[static_cast<size_t>(i)]).bind(2, key_texts[session]);
      insert.bind(3, keys[session].agent).bind(4, keys[session].instance);
      insert.bind(5, keys[session].session).bind(6, ++sequences[session]).bind_blob(7, input);
      insert.bind(8, int64_t{1'700'000'000'000}).run();
    }
    connection.exec("COMMIT");
  }
  const double rate = static_cast<double>(rows) / seconds_since(start);
  db.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return rate;
}

struct StorageRun {
  double admissions_per_second = 0;
  int64_t failed = 0;
  ExecutorStats stats;
};

// Each run claims sessions of its own, so a PostgreSQL database can be reused.
StorageRun storage_admit_rate(std::unique_ptr<Database> database, const Options& options) {
  StorageExecutor executor(std::move(database), {});
  const NodeIdentity me{"bench-node", new_ulid(), ""};
  const std::string run_prefix = new_ulid() + "-";
  std::vector<SessionKey> keys;
  for (int i = 0; i < options.sessions; ++i) {
    keys.push_back(SessionKey{"bench", run_prefix + std::to_string(i), "default"});
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
  // Owned out here: a completion may still be inside release() when its producer
  // has taken the last slot back, so they must outlive the storage thread.
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
  StorageRun run;
  run.admissions_per_second =
      static_cast<double>(per_thread * options.threads) / seconds_since(start);
  run.failed = failed;
  const ExecutorStats after = executor.stats();
  run.stats.batches = after.batches - before.batches;
  run.stats.jobs = after.jobs - before.jobs;
  run.stats.largest_batch = after.largest_batch;
  run.stats.failed_commits = after.failed_commits - before.failed_commits;
  run.stats.retried_batches = after.retried_batches - before.retried_batches;
  executor.stop();
  return run;
}

StorageRun sqlite_admit_rate(const std::string& path, const Options& options) {
  StorageRun run = storage_admit_rate(SqliteDatabase::open_file(path), options);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
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
    const bool own_dir = options.dir.empty();
    const std::string dir = own_dir ? make_temp_dir() : options.dir;
    std::printf("storage bench in %s (sqlite files, WAL, synchronous=FULL)\n", dir.c_str());
    std::printf(
        "raw: %lld rows, 100 per transaction; storage: %lld admissions, %d threads x %d "
        "in flight, %d sessions\n\n",
        static_cast<long long>(options.rows), static_cast<long long>(options.admissions),
        options.threads, options.in_flight, options.sessions);

    std::vector<double> raw_one_session, raw_spread, storage, batch_sizes, postgres;
    int64_t failed = 0;
    for (int round = 1; round <= options.rounds; ++round) {
      raw_one_session.push_back(raw_insert_rate(dir + "/raw.db", options.rows, 100, 1));
      raw_spread.push_back(raw_insert_rate(dir + "/raw.db", options.rows, 100, options.sessions));
      const StorageRun run = sqlite_admit_rate(dir + "/storage.db", options);
      storage.push_back(run.admissions_per_second);
      const double mean_batch =
          run.stats.batches ? static_cast<double>(run.stats.jobs) / run.stats.batches : 0.0;
      batch_sizes.push_back(mean_batch);
      failed += run.failed;
      std::printf(
          "round %d: raw 1 session %8.0f rows/s | raw %d sessions %8.0f rows/s | "
          "storage %8.0f admissions/s (%llu batches, mean %.0f, largest %llu jobs)\n",
          round, raw_one_session.back(), options.sessions, raw_spread.back(), storage.back(),
          static_cast<unsigned long long>(run.stats.batches), mean_batch,
          static_cast<unsigned long long>(run.stats.largest_batch));
      if (!options.postgres_url.empty()) {
        const StorageRun pg = storage_admit_rate(open_database(options.postgres_url), options);
        postgres.push_back(pg.admissions_per_second);
        failed += pg.failed;
        std::printf(
            "         postgres %8.0f admissions/s (%llu batches, mean %.0f, largest %llu jobs, "
            "%llu retried)\n",
            postgres.back(), static_cast<unsigned long long>(pg.stats.batches),
            pg.stats.batches ? static_cast<double>(pg.stats.jobs) / pg.stats.batches : 0.0,
            static_cast<unsigned long long>(pg.stats.largest_batch),
            static_cast<unsigned long long>(pg.stats.retried_batches));
      }
    }
    const double single =
        raw_insert_rate(dir + "/raw.db", options.single_rows, 1, options.sessions);

    const double storage_rate = median(storage);
    const double spread_rate = median(raw_spread);
    const double one_session_rate = median(raw_one_session);
    std::printf("\nmedians over %d rounds\n", options.rounds);
    std::printf("  raw INSERT, 100 rows/txn, 1 session        : %9.0f rows/s\n", one_session_rate);
    std::printf("  raw INSERT, 100 rows/txn, %4d sessions     : %9.0f rows/s\n", options.sessions,
                spread_rate);
    std::printf("  raw INSERT, 1 row/txn (%lld rows)          : %9.0f rows/s\n",
                static_cast<long long>(options.single_rows), single);
    std::printf(
        "  storage layer admit                        : %9.0f admissions/s, mean batch %.0f"
        "\n",
        storage_rate, median(batch_sizes));
    const double ratio = storage_rate / spread_rate;
    std::printf("  ratio storage / raw(100 rows/txn, same sessions): %.2f (target >= 0.50: %s)\n",
                ratio, ratio >= 0.5 ? "met" : "NOT met");
    std::printf("  ratio storage / raw(100 rows/txn, 1 session)    : %.2f\n",
                storage_rate / one_session_rate);
    std::printf("  ratio storage / raw(1 row/txn)                  : %.1fx\n",
                storage_rate / single);
    if (!postgres.empty()) {
      const double postgres_rate = median(postgres);
      std::printf("  postgres admit                             : %9.0f admissions/s\n",
                  postgres_rate);
      std::printf("  ratio sqlite file / postgres: %.2fx (cluster target <= 2x: %s)\n",
                  storage_rate / postgres_rate,
                  storage_rate <= 2 * postgres_rate ? "met" : "NOT met");
    }
    if (failed != 0) std::printf("  %lld admissions FAILED\n", static_cast<long long>(failed));
    if (own_dir) std::filesystem::remove_all(dir);
    return failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "storage_bench: %s\n", e.what());
    return 2;
  }
}
