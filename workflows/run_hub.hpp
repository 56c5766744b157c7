#pragma once
// Tells the readers of a run on this node that more of it is durable: every
// event is persisted before it is announced, so a reader that reads the store
// after its last index never misses or repeats an event. Runs owned by other
// nodes are not announced here; their readers poll the store.
// Thread-safe; callbacks run on the publishing thread and must not block.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sluice::workflows {

class RunHub {
 public:
  // last_index: the highest event index now durable; ended: run_end is among them.
  using Listener = std::function<void(int64_t last_index, bool ended)>;

  // Unsubscribes when the returned handle is destroyed.
  std::shared_ptr<void> subscribe(const std::string& run_id, Listener listener);
  void publish(const std::string& run_id, int64_t last_index, bool ended);

 private:
  struct Entry {
    uint64_t id;
    Listener listener;
  };
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::multimap<std::string, Entry> listeners_;
};

}  // namespace sluice::workflows
