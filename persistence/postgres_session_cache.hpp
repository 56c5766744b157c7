#pragma once
// What a Postgres connection last committed about the sessions it writes: owner,
// epoch and both counters. With it, a batch assigns sequences and positions
// without asking the server first; the batch's flush then checks, under the
// row lock, that the row still holds exactly these values (see
// postgres_batch_transaction.hpp), so a stale entry costs a retry, never a
// wrong write.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace sluice::persistence::postgres {

struct SessionState {
  std::string owner;  // node id; empty once released
  int64_t epoch = 0;
  int64_t next_sequence = 1;
  int64_t next_position = 1;
};

class SessionCache {
 public:
  // About 150 bytes an entry: 65,536 sessions cost about 10 MB. A session that
  // fell out costs one locking read the next time it is written.
  static constexpr size_t kDefaultCapacity = 65'536;

  explicit SessionCache(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  std::optional<SessionState> find(const std::string& session_key);
  void store(const std::string& session_key, const SessionState& state);
  void erase(const std::string& session_key) { entries_.erase(session_key); }
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    SessionState state;
    uint64_t used = 0;  // the value of clock_ at the last find or store
  };
  // Drops the less recently used half, so eviction costs O(1) per store on average.
  void evict();

  std::unordered_map<std::string, Entry> entries_;
  size_t capacity_;
  uint64_t clock_ = 0;
};

}  // namespace sluice::persistence::postgres
