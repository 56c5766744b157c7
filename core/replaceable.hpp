#pragma once
// A value replaced as a whole while others read it (definitions that
// `sluice dev` reloads): a reader takes a snapshot and keeps using it, so a
// replacement never changes anything under its feet. Thread-safe.
#include <memory>
#include <mutex>

namespace sluice {

template <class T>
class Replaceable {
 public:
  explicit Replaceable(T value = T{}) : value_(std::make_shared<const T>(std::move(value))) {}

  std::shared_ptr<const T> current() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void replace(T value) {
    auto next = std::make_shared<const T>(std::move(value));
    std::lock_guard lock(mutex_);
    value_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace sluice
