#include "persistence/postgres_pending_writes.hpp"

#include <map>
#include <utility>

#include "persistence/payload_codec.hpp"
#include "persistence/postgres_arrays.hpp"

namespace sluice::persistence::postgres {
namespace {

// For a patch of a row still queued: the row goes out with the patch applied.
void apply(const SubmissionPatch& patch, SubmissionRecord& record) {
  if (patch.state) record.state = *patch.state;
  if (patch.input_applied) record.input_applied = *patch.input_applied;
  if (patch.attempts) record.attempts = *patch.attempts;
  if (patch.abort_requested) record.abort_requested = *patch.abort_requested;
  if (patch.released) record.released = *patch.released;
  if (patch.started_at_ms) record.started_at_ms = *patch.started_at_ms;
  if (patch.settled_at_ms) record.settled_at_ms = *patch.settled_at_ms;
  if (patch.result_json) record.result_json = patch.result_json;
  if (patch.error_json) record.error_json = patch.error_json;
  if (patch.last_owner) record.last_owner = *patch.last_owner;
  if (patch.usage_json) record.usage_json = patch.usage_json;
}

// `later` applied after `into`: its set fields win.
void merge(const SubmissionPatch& later, SubmissionPatch& into) {
  if (later.state) into.state = later.state;
  if (later.input_applied) into.input_applied = later.input_applied;
  if (later.attempts) into.attempts = later.attempts;
  if (later.abort_requested) into.abort_requested = later.abort_requested;
  if (later.released) into.released = later.released;
  if (later.started_at_ms) into.started_at_ms = later.started_at_ms;
  if (later.settled_at_ms) into.settled_at_ms = later.settled_at_ms;
  if (later.result_json) into.result_json = later.result_json;
  if (later.error_json) into.error_json = later.error_json;
  if (later.last_owner) into.last_owner = later.last_owner;
  if (later.usage_json) into.usage_json = later.usage_json;
}

// Appends the columns of `rows` to `out`, one array literal per column; `write`
// adds one row's values to the column builders in the statement's order.
template <size_t Columns, class Rows, class Write>
void encode_columns(const Rows& rows, std::vector<std::string>& out, Write write) {
  ArrayLiteral columns[Columns];
  for (const auto& row : rows) write(row, columns);
  for (const ArrayLiteral& column : columns) out.push_back(column.finish());
}

}  // namespace

std::string PendingWrites::key_of(const std::string& agent, const std::string& instance,
                                  const std::string& key) {
  // Length-prefixed, so no choice of the three strings can collide with another.
  return std::to_string(agent.size()) + ':' + agent + std::to_string(instance.size()) + ':' +
         instance + key;
}

PendingWrites::Mark PendingWrites::mark() const {
  return {submissions_.size(), keys_.size(), entries_.size(), entry_patches_.size(),
          submission_patches_.size()};
}

void PendingWrites::truncate(const Mark& mark) {
  submissions_.resize(mark.submissions);
  keys_.resize(mark.keys);
  entries_.resize(mark.entries);
  entry_patches_.resize(mark.entry_patches);
  submission_patches_.resize(mark.submission_patches);
  if (mark.keys == 0) key_index_.clear();
}

void PendingWrites::add_submission(const std::string& session_key, const SubmissionRecord& record) {
  submissions_.push_back({session_key, record});
}

void PendingWrites::add_key(PendingKey key) {
  key_index_[key_of(key.agent, key.instance, key.key)] = keys_.size();
  keys_.push_back(std::move(key));
}

void PendingWrites::add_entry(const std::string& session_key, int64_t position,
                              const HistoryEntry& entry) {
  entries_.push_back({session_key, position, entry});
}

void PendingWrites::add_entry_patch(const std::string& session_key, const EntryPatch& patch) {
  entry_patches_.push_back({session_key, patch, entries_.size()});
}

void PendingWrites::add_submission_patch(const std::string& session_key,
                                         const SubmissionPatch& patch) {
  submission_patches_.push_back({session_key, patch, submissions_.size()});
}

const PendingKey* PendingWrites::find_key(const std::string& agent, const std::string& instance,
                                          const std::string& key) const {
  const auto found = key_index_.find(key_of(agent, instance, key));
  if (found == key_index_.end() || found->second >= keys_.size()) return nullptr;
  const PendingKey& pending = keys_[found->second];
  const bool same = pending.agent == agent && pending.instance == instance && pending.key == key;
  return same ? &pending : nullptr;
}

PendingWrites::Encoded PendingWrites::encode(std::string& scratch) {
  // Fold patches into pending rows written before them; merge the rest per row.
  std::unordered_map<std::string_view, size_t> submission_index;
  for (size_t i = 0; i < submissions_.size(); ++i) {
    submission_index.emplace(submissions_[i].record.id, i);
  }
  std::map<std::pair<std::string, std::string>, SubmissionPatch> submission_updates;
  for (const SubmissionPatchRow& row : submission_patches_) {
    const auto found = submission_index.find(row.patch.id);
    if (found != submission_index.end() && found->second < row.submissions_before &&
        submissions_[found->second].session_key == row.session_key) {
      apply(row.patch, submissions_[found->second].record);
      continue;
    }
    auto [update, added] = submission_updates.try_emplace({row.patch.id, row.session_key});
    if (added) update->second.id = row.patch.id;
    merge(row.patch, update->second);
  }
  std::map<std::pair<std::string_view, int64_t>, size_t> entry_index;
  for (size_t i = 0; i < entries_.size(); ++i) {
    entry_index.emplace(
        std::pair<std::string_view, int64_t>(entries_[i].session_key, entries_[i].position), i);
  }
  std::map<std::pair<std::string, int64_t>, EntryStatus> entry_updates;
  for (const EntryPatchRow& row : entry_patches_) {
    const auto found = entry_index.find({row.session_key, row.patch.position});
    if (found != entry_index.end() && found->second < row.entries_before) {
      entries_[found->second].entry.status = row.patch.status;
    } else {
      entry_updates[{row.session_key, row.patch.position}] = row.patch.status;
    }
  }

  // The column order of each group is the order of its unnest() in kFlushBatch.
  Encoded out;
  encode_columns<20>(submissions_, out.arrays, [&](const Submission& row, ArrayLiteral* c) {
    const SubmissionRecord& r = row.record;
    encode_submission_input(r.input_text, scratch);
    c[0].text(r.id);
    c[1].text(row.session_key);
    c[2].text(r.key.agent);
    c[3].text(r.key.instance);
    c[4].text(r.key.session);
    c[5].number(r.sequence);
    c[6].text(to_string(r.kind));
    r.dispatch_id.empty() ? c[7].null() : c[7].text(r.dispatch_id);
    c[8].text(to_string(r.state));
    c[9].bytes(scratch);
    c[10].boolean(r.input_applied);
    c[11].number(r.attempts);
    c[12].boolean(r.abort_requested);
    c[13].boolean(r.released);
    c[14].number(r.accepted_at_ms);
    c[15].number(r.started_at_ms);
    c[16].number(r.settled_at_ms);
    c[17].optional_text(r.result_json);
    c[18].optional_text(r.error_json);
    r.last_owner.empty() ? c[19].null() : c[19].text(r.last_owner);
  });
  encode_columns<6>(keys_, out.arrays, [](const PendingKey& k, ArrayLiteral* c) {
    c[0].text(k.agent);
    c[1].text(k.instance);
    c[2].text(k.key);
    c[3].text(k.body_hash);
    c[4].text(k.submission_id);
    c[5].number(k.created_at_ms);
  });
  encode_columns<8>(entries_, out.arrays, [&](const Entry& row, ArrayLiteral* c) {
    encode_entry_content(row.entry, scratch);
    c[0].text(row.session_key);
    c[1].number(row.position);
    c[2].number(row.entry.sequence);
    c[3].text(row.entry.submission_id);
    c[4].text(row.entry.type);
    c[5].text(to_string(row.entry.status));
    c[6].number(row.entry.timestamp_ms);
    c[7].bytes(scratch);
  });
  encode_columns<3>(entry_updates, out.arrays, [](const auto& update, ArrayLiteral* c) {
    c[0].text(update.first.first);
    c[1].number(update.first.second);
    c[2].text(to_string(update.second));
  });
  encode_columns<13>(submission_updates, out.arrays, [](const auto& update, ArrayLiteral* c) {
    const SubmissionPatch& p = update.second;
    c[0].text(p.id);
    c[1].text(update.first.second);
    p.state ? c[2].text(to_string(*p.state)) : c[2].null();
    c[3].optional_boolean(p.input_applied);
    c[4].optional_number(p.attempts);
    c[5].optional_boolean(p.abort_requested);
    c[6].optional_boolean(p.released);
    c[7].optional_number(p.started_at_ms);
    c[8].optional_number(p.settled_at_ms);
    c[9].optional_text(p.result_json);
    c[10].optional_text(p.error_json);
    c[11].optional_text(p.last_owner);
    c[12].optional_text(p.usage_json);
  });
  out.entry_patches = static_cast<int64_t>(entry_updates.size());
  out.submission_patches = static_cast<int64_t>(submission_updates.size());
  return out;
}

}  // namespace sluice::persistence::postgres
