#pragma once
// What the executor tests share: counting completions, holding the storage
// thread so that jobs submitted meanwhile form one batch, an admission job.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "core/ids.hpp"
#include "persistence/executor.hpp"

namespace sluice::persistence::testing {

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
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return done_ >= count; });
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

inline std::function<AdmitResult(Transaction&)> admit_job(const SessionKey& key, const Fence& fence,
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

}  // namespace sluice::persistence::testing
