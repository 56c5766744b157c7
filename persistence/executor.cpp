#include "persistence/executor.hpp"

#include <pthread.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

namespace sluice::persistence {
namespace {

// Runs one job under its own savepoint. Its failure is rolled back alone and
// returned; the batch goes on. Failures of the savepoint machinery itself
// propagate: the transaction cannot be trusted any more.
std::optional<StorageError> run_job(Transaction& txn,
                                    const std::function<void(Transaction&)>& run) {
  txn.savepoint();
  std::optional<StorageError> error;
  try {
    run(txn);
  } catch (const RetryBatch&) {
    throw;  // the batch as a whole runs again
  } catch (const FencedError& e) {
    error = StorageError{StorageError::Kind::fenced, e.what()};
  } catch (const std::exception& e) {
    error = StorageError{StorageError::Kind::failure, e.what()};
  } catch (...) {
    error = StorageError{StorageError::Kind::failure, "unknown exception in a storage job"};
  }
  if (error) {
    txn.rollback_to_savepoint();
  } else {
    txn.release_savepoint();
  }
  return error;
}

// A throwing callback must not take the storage thread (and every later job)
// down with it.
template <class Finish>
void call_finish(const Finish& finish, const StorageError* error) noexcept {
  try {
    finish(error);
  } catch (const std::exception& e) {
    spdlog::error("storage completion callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("storage completion callback threw a non-standard exception");
  }
}

}  // namespace

StorageExecutor::StorageExecutor(std::unique_ptr<Database> database, Options options)
    : database_(std::move(database)), options_(options) {
  if (!database_) throw std::invalid_argument("StorageExecutor needs a database");
  if (options_.max_batch == 0) options_.max_batch = 1;
  thread_ = std::thread([this] { loop(); });
}

StorageExecutor::~StorageExecutor() {
  stop();
}

void StorageExecutor::enqueue(Job job) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      // The loop only sleeps on an empty queue, so only the first job wakes it.
      const bool wake = queue_.empty();
      queue_.push_back(std::move(job));
      lock.unlock();
      if (wake) wake_.notify_one();
      return;
    }
  }
  const StorageError stopped{StorageError::Kind::stopped, "storage executor is stopped"};
  call_finish(job.finish, &stopped);
}

void StorageExecutor::stop() {
  std::thread storage;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // From a completion callback (on the storage thread) it cannot join itself;
    // the thread ends on its own once the queue is drained.
    if (thread_.get_id() != std::this_thread::get_id()) storage = std::move(thread_);
  }
  wake_.notify_all();
  if (storage.joinable()) storage.join();
}

void StorageExecutor::loop() {
  // Named so that top -H, perf and gdb show where storage time goes.
  pthread_setname_np(pthread_self(), "sluice-storage");
  std::deque<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      if (queue_.size() <= options_.max_batch) {
        batch.swap(queue_);
      } else {
        const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

void StorageExecutor::attempt_batch(std::deque<Job>& batch,
                                    std::vector<std::pair<size_t, StorageError>>& failed) {
  failed.clear();
  const std::unique_ptr<Transaction> txn = database_->begin();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (auto error = run_job(*txn, batch[i].run)) failed.emplace_back(i, std::move(*error));
  }
  txn->commit();
}

void StorageExecutor::run_batch(std::deque<Job>& batch) {
  std::vector<std::pair<size_t, StorageError>> failed;  // in job order
  std::optional<StorageError> batch_error;
  bool retried = false;
  try {
    try {
      attempt_batch(batch, failed);
    } catch (const RetryBatch& e) {
      spdlog::info("storage batch of {} jobs runs again: {}", batch.size(), e.what());
      retried = true;
      attempt_batch(batch, failed);  // asking a second time fails the batch
    }
  } catch (const std::exception& e) {
    batch_error = StorageError{StorageError::Kind::failure,
                               std::string("storage batch not committed: ") + e.what()};
  }
  if (batch_error) spdlog::error("{} ({} jobs)", batch_error->message, batch.size());

  {
    std::lock_guard lock(mutex_);
    stats_.batches += 1;
    stats_.jobs += batch.size();
    stats_.failed_commits += batch_error ? 1 : 0;
    stats_.retried_batches += retried ? 1 : 0;
    stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, batch.size());
  }

  auto next_failed = failed.begin();
  for (size_t i = 0; i < batch.size(); ++i) {
    const StorageError* error = nullptr;
    if (next_failed != failed.end() && next_failed->first == i) {
      error = &(next_failed++)->second;
    }
    call_finish(batch[i].finish, batch_error ? &*batch_error : error);
  }
}

ExecutorStats StorageExecutor::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string StorageExecutor::describe() const {
  const ExecutorStats now = stats();
  const double per_batch =
      now.batches == 0 ? 0.0 : static_cast<double>(now.jobs) / static_cast<double>(now.batches);
  return fmt::format(
      "group commit over {}: {} jobs in {} batches ({:.1f} per batch, largest {}, {} failed)",
      database_->describe(), now.jobs, now.batches, per_batch, now.largest_batch,
      now.failed_commits);
}

}  // namespace sluice::persistence
