#pragma once
// The rows a batch transaction has written but not yet sent, in the order its
// jobs wrote them. A flush sends all of them as the array parameters of one
// statement (statements::kFlushBatch); a job that fails before that is undone
// by truncating to the mark taken when it started.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "persistence/records.hpp"

namespace sluice::persistence::postgres {

struct PendingKey {
  std::string agent;
  std::string instance;
  std::string key;
  std::string body_hash;
  std::string submission_id;
  int64_t created_at_ms = 0;
};

class PendingWrites {
 public:
  struct Mark {
    size_t submissions = 0;
    size_t keys = 0;
    size_t entries = 0;
    size_t entry_patches = 0;
    size_t submission_patches = 0;
    bool operator==(const Mark&) const = default;
  };

  // The parameters of statements::kFlushBatch after its session arrays, and how
  // many rows its two patch updates must each report: a patch that matches no
  // row fails the flush.
  struct Encoded {
    std::vector<std::string> arrays;
    int64_t entry_patches = 0;
    int64_t submission_patches = 0;
  };

  Mark mark() const;
  void truncate(const Mark& mark);
  bool empty() const { return mark() == Mark{}; }
  void clear() { truncate(Mark{}); }

  void add_submission(const std::string& session_key, const SubmissionRecord& record);
  void add_key(PendingKey key);
  void add_entry(const std::string& session_key, int64_t position, const HistoryEntry& entry);
  void add_entry_patch(const std::string& session_key, const EntryPatch& patch);
  void add_submission_patch(const std::string& session_key, const SubmissionPatch& patch);

  // An idempotency key added since the last flush, or nullptr.
  const PendingKey* find_key(const std::string& agent, const std::string& instance,
                             const std::string& key) const;

  // Folds each patch into the row it changes when that row is pending and was
  // written before the patch (the server could not see it: a statement's parts
  // share one snapshot), merges the other patches per row, and encodes all.
  // `scratch` is a reused payload buffer. Leaves the pending rows changed.
  Encoded encode(std::string& scratch);

 private:
  struct Submission {
    std::string session_key;
    SubmissionRecord record;
  };
  struct Entry {
    std::string session_key;
    int64_t position = 0;
    HistoryEntry entry;
  };
  // Each patch remembers how many rows of its table were pending when it came,
  // so it is folded only into rows written before it.
  struct EntryPatchRow {
    std::string session_key;
    EntryPatch patch;
    size_t entries_before = 0;
  };
  struct SubmissionPatchRow {
    std::string session_key;
    SubmissionPatch patch;
    size_t submissions_before = 0;
  };

  static std::string key_of(const std::string& agent, const std::string& instance,
                            const std::string& key);

  std::vector<Submission> submissions_;
  std::vector<PendingKey> keys_;
  std::vector<Entry> entries_;
  std::vector<EntryPatchRow> entry_patches_;
  std::vector<SubmissionPatchRow> submission_patches_;
  // Index into keys_; an index past the end, left by a truncation, is stale.
  std::unordered_map<std::string, size_t> key_index_;
};

}  // namespace sluice::persistence::postgres
