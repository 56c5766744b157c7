#include "workflows/run_hub.hpp"

#include <vector>

namespace sluice::workflows {

std::shared_ptr<void> RunHub::subscribe(const std::string& run_id, Listener listener) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    listeners_.emplace(run_id, Entry{id, std::move(listener)});
  }
  // The handle keeps no pointer to a listener, only where to remove it from.
  return std::shared_ptr<void>(nullptr, [this, run_id, id](void*) {
    std::lock_guard lock(mutex_);
    auto [first, last] = listeners_.equal_range(run_id);
    for (auto it = first; it != last; ++it) {
      if (it->second.id == id) {
        listeners_.erase(it);
        return;
      }
    }
  });
}

void RunHub::publish(const std::string& run_id, int64_t last_index, bool ended) {
  std::vector<Listener> targets;
  {
    std::lock_guard lock(mutex_);
    auto [first, last] = listeners_.equal_range(run_id);
    for (auto it = first; it != last; ++it) targets.push_back(it->second.listener);
  }
  for (const auto& listener : targets) listener(last_index, ended);
}

}  // namespace sluice::workflows
