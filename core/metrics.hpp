#pragma once
// Node metrics, exposed at /metrics in Prometheus text format. Every method is
// thread-safe and cheap (atomics), so actors call them on their hot paths.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace sluice {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void admitted(bool dispatch, double admission_seconds);
  void settled(const std::string& outcome, double queued_to_settled_seconds);
  void rejected(const std::string& error_type);
  void turn_finished(double seconds);
  // Unsettled submissions this node took over from a previous owner (negative
  // when it hands them on), so the admission limit counts them too.
  void adopted(int64_t count) { unsettled_.fetch_add(count, std::memory_order_relaxed); }
  void queue_depth_add(int64_t delta);  // queued + running submissions on this node
  void live_sessions_add(int64_t delta);

  // Unsettled submissions this node holds (admitted, not yet settled); the node
  // admission limit is checked against it.
  int64_t unsettled() const { return unsettled_.load(std::memory_order_relaxed); }

  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int64_t> unsettled_{0};
};

}  // namespace sluice
