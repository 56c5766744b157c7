#include "persistence/sqlite_rows.hpp"

#include "persistence/payload_codec.hpp"

namespace sluice::persistence::sqlite {
namespace {

template <class Enum>
Enum parse_column(std::optional<Enum> parsed, const std::string& text, const char* column) {
  if (!parsed)
    throw StorageFailure(std::string("unknown ") + column + " '" + text + "' in database");
  return *parsed;
}

}  // namespace

SubmissionRecord read_submission(const Statement& row) {
  SubmissionRecord record;
  record.id = row.text(0);
  record.dispatch_id = row.text(1);
  record.key = SessionKey{row.text(2), row.text(3), row.text(4)};
  const std::string kind = row.text(5);
  record.kind = parse_column(parse_submission_kind(kind), kind, "submission kind");
  record.sequence = row.int64(6);
  const std::string state = row.text(7);
  record.state = parse_column(parse_submission_state(state), state, "submission state");
  record.input_text = decode_submission_input(row.blob(8));
  record.input_applied = row.int64(9) != 0;
  record.attempts = static_cast<int>(row.int64(10));
  record.abort_requested = row.int64(11) != 0;
  record.released = row.int64(12) != 0;
  record.accepted_at_ms = row.int64(13);
  record.started_at_ms = row.int64(14);
  record.settled_at_ms = row.int64(15);
  record.result_json = row.optional_text(16);
  record.error_json = row.optional_text(17);
  record.last_owner = row.text(18);
  record.usage_json = row.optional_text(19);
  return record;
}

HistoryEntry read_entry(const Statement& row) {
  HistoryEntry entry;
  entry.position = row.int64(0);
  entry.sequence = row.int64(1);
  entry.submission_id = row.text(2);
  entry.type = row.text(3);
  const std::string status = row.text(4);
  entry.status = parse_column(parse_entry_status(status), status, "history entry status");
  entry.timestamp_ms = row.int64(5);
  decode_entry_content(row.blob(6), entry);
  return entry;
}

RunRecord read_run(const Statement& row) {
  RunRecord run;
  run.run_id = row.text(0);
  run.workflow_name = row.text(1);
  const std::string status = row.text(2);
  run.status = parse_column(parse_run_status(status), status, "run status");
  run.payload_json = row.text(3);
  run.started_at_ms = row.int64(4);
  run.ended_at_ms = row.int64(5);
  run.is_error = row.int64(6) != 0;
  run.result_json = row.optional_text(7);
  run.error_json = row.optional_text(8);
  run.owner_node = row.text(9);
  run.owner_incarnation = row.text(10);
  run.next_event_index = row.int64(11);
  return run;
}

}  // namespace sluice::persistence::sqlite
