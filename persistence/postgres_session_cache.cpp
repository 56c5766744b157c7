#include "persistence/postgres_session_cache.hpp"

#include <algorithm>
#include <vector>

namespace sluice::persistence::postgres {

std::optional<SessionState> SessionCache::find(const std::string& session_key) {
  const auto found = entries_.find(session_key);
  if (found == entries_.end()) return std::nullopt;
  found->second.used = ++clock_;
  return found->second.state;
}

void SessionCache::store(const std::string& session_key, const SessionState& state) {
  auto found = entries_.find(session_key);
  if (found == entries_.end()) {
    if (entries_.size() >= capacity_) evict();
    found = entries_.emplace(session_key, Entry{}).first;
  }
  found->second.state = state;
  found->second.used = ++clock_;
}

void SessionCache::evict() {
  std::vector<uint64_t> used;
  used.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) used.push_back(entry.used);
  const auto middle = used.begin() + static_cast<std::ptrdiff_t>(used.size() / 2);
  std::nth_element(used.begin(), middle, used.end());
  const uint64_t oldest_kept = *middle;
  std::erase_if(entries_, [&](const auto& item) { return item.second.used < oldest_kept; });
}

}  // namespace sluice::persistence::postgres
