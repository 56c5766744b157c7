#pragma once
// Group commit. One dedicated storage thread owns the database connection; work
// submitted from any thread is queued, and everything queued is run in one
// transaction (each piece under its own savepoint) and committed together, so
// durability costs one fsync per batch rather than per message.
//
// A transaction may ask for its batch to be run again (RetryBatch): the job
// functions then run a second time, in a new transaction. So a job must do
// nothing but use its transaction and return a result; completions run once.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "persistence/store.hpp"

namespace sluice::persistence {

// Thrown by a Transaction, from any call including commit(), that cannot
// commit its batch but expects the next transaction of its database to run the
// same batch properly, each job succeeding or failing on its own (Postgres's
// batch transaction, when something it assumed had changed:
// postgres_batch_transaction.hpp). Nothing of the transaction is committed;
// the executor runs every job of the batch again, once.
struct RetryBatch : StorageFailure {
  using StorageFailure::StorageFailure;
};

struct StorageError {
  enum class Kind { fenced, failure, stopped };
  Kind kind = Kind::failure;
  std::string message;
};

template <class R>
using StorageResult = std::variant<R, StorageError>;

struct ExecutorStats {
  uint64_t batches = 0;
  uint64_t jobs = 0;
  uint64_t failed_commits = 0;
  uint64_t largest_batch = 0;    // most jobs committed together
  uint64_t retried_batches = 0;  // run a second time after a RetryBatch
};

class StorageExecutor {
 public:
  struct Options {
    size_t max_batch = 2048;  // jobs per transaction at most
  };

  StorageExecutor(std::unique_ptr<Database> database, Options options);
  ~StorageExecutor();  // stop(): runs what is queued, then joins
  StorageExecutor(const StorageExecutor&) = delete;
  StorageExecutor& operator=(const StorageExecutor&) = delete;

  // Runs `work` inside the next batch. `done` runs on the storage thread once the
  // batch has committed (or failed); it must not block: hand the result on with a
  // message or a post. After stop(), `done` gets StorageError::Kind::stopped.
  template <class R>
  void submit(std::function<R(Transaction&)> work, std::function<void(StorageResult<R>)> done) {
    auto slot = std::make_shared<StorageResult<R>>(StorageError{StorageError::Kind::stopped, ""});
    enqueue(Job{[work = std::move(work), slot](Transaction& txn) { *slot = work(txn); },
                [done = std::move(done), slot](const StorageError* error) {
                  if (error) {
                    done(*error);
                  } else {
                    done(std::move(*slot));
                  }
                }});
  }

  // Blocking convenience for start-up code and tests; never call it on a CAF or
  // io thread.
  template <class R>
  StorageResult<R> run_sync(std::function<R(Transaction&)> work) {
    std::promise<StorageResult<R>> promise;
    auto future = promise.get_future();
    submit<R>(std::move(work),
              [&promise](StorageResult<R> result) { promise.set_value(std::move(result)); });
    return future.get();
  }

  void stop();
  ExecutorStats stats() const;
  std::string describe() const;

 private:
  struct Job {
    std::function<void(Transaction&)> run;
    // nullptr on success, the batch's or this job's error otherwise
    std::function<void(const StorageError*)> finish;
  };

  void enqueue(Job job);
  void loop();
  void run_batch(std::deque<Job>& batch);
  // One transaction over the whole batch; job errors go to `failed` (in job
  // order), what fails the batch as a whole is thrown.
  void attempt_batch(std::deque<Job>& batch, std::vector<std::pair<size_t, StorageError>>& failed);

  std::unique_ptr<Database> database_;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  ExecutorStats stats_;
  std::thread thread_;
};

}  // namespace sluice::persistence
