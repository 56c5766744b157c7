#include "persistence/postgres_rows.hpp"

#include <string_view>

#include <pqxx/binarystring>
#include <pqxx/field>

#include "persistence/payload_codec.hpp"

namespace sluice::persistence::postgres {
namespace {

template <class Enum>
Enum parse_column(std::optional<Enum> parsed, const std::string& text, const char* column) {
  if (!parsed)
    throw StorageFailure(std::string("unknown ") + column + " '" + text + "' in database");
  return *parsed;
}

std::string text(const pqxx::field& field) {
  return field.as<std::string>(std::string());
}

std::optional<std::string> optional_text(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

// Result rows come in text format; binarystring undoes bytea's hex escaping.
std::string_view bytes(const pqxx::binarystring& decoded) {
  return {reinterpret_cast<const char*>(decoded.data()), decoded.size()};
}

}  // namespace

SubmissionRecord read_submission(const pqxx::row& row) {
  SubmissionRecord record;
  record.id = text(row[0]);
  record.dispatch_id = text(row[1]);
  record.key = SessionKey{text(row[2]), text(row[3]), text(row[4])};
  const std::string kind = text(row[5]);
  record.kind = parse_column(parse_submission_kind(kind), kind, "submission kind");
  record.sequence = row[6].as<int64_t>();
  const std::string state = text(row[7]);
  record.state = parse_column(parse_submission_state(state), state, "submission state");
  record.input_text = decode_submission_input(bytes(pqxx::binarystring(row[8])));
  record.input_applied = row[9].as<bool>();
  record.attempts = row[10].as<int>();
  record.abort_requested = row[11].as<bool>();
  record.released = row[12].as<bool>();
  record.accepted_at_ms = row[13].as<int64_t>();
  record.started_at_ms = row[14].as<int64_t>();
  record.settled_at_ms = row[15].as<int64_t>();
  record.result_json = optional_text(row[16]);
  record.error_json = optional_text(row[17]);
  record.last_owner = text(row[18]);
  record.usage_json = optional_text(row[19]);
  return record;
}

HistoryEntry read_entry(const pqxx::row& row) {
  HistoryEntry entry;
  entry.position = row[0].as<int64_t>();
  entry.sequence = row[1].as<int64_t>();
  entry.submission_id = text(row[2]);
  entry.type = text(row[3]);
  const std::string status = text(row[4]);
  entry.status = parse_column(parse_entry_status(status), status, "history entry status");
  entry.timestamp_ms = row[5].as<int64_t>();
  decode_entry_content(bytes(pqxx::binarystring(row[6])), entry);
  return entry;
}

RunRecord read_run(const pqxx::row& row) {
  RunRecord run;
  run.run_id = text(row[0]);
  run.workflow_name = text(row[1]);
  const std::string status = text(row[2]);
  run.status = parse_column(parse_run_status(status), status, "run status");
  run.payload_json = text(row[3]);
  run.started_at_ms = row[4].as<int64_t>();
  run.ended_at_ms = row[5].as<int64_t>();
  run.is_error = row[6].as<bool>();
  run.result_json = optional_text(row[7]);
  run.error_json = optional_text(row[8]);
  run.owner_node = text(row[9]);
  run.owner_incarnation = text(row[10]);
  run.next_event_index = row[11].as<int64_t>();
  return run;
}

}  // namespace sluice::persistence::postgres
