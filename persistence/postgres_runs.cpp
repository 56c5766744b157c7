// Workflow runs and their events in PostgresTransaction.
#include <algorithm>
#include <limits>

#include "core/clock.hpp"
#include "persistence/postgres_arrays.hpp"
#include "persistence/postgres_rows.hpp"
#include "persistence/postgres_statements.hpp"
#include "persistence/postgres_transaction.hpp"

namespace sluice::persistence::postgres {
namespace {

namespace st = statements;

// libpqxx 6 sends a null `const char*` as SQL NULL; the statement casts the
// text to the column's type.
const char* nullable(const std::optional<std::string>& text) {
  return text ? text->c_str() : nullptr;
}

std::vector<RunRecord> read_runs(const pqxx::result& rows) {
  std::vector<RunRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_run(row));
  return out;
}

}  // namespace

void PostgresTransaction::create_run(const RunRecord& record) {
  run(st::kCreateRun, record.run_id, record.workflow_name, record.payload_json,
      record.started_at_ms, record.owner_node, record.owner_incarnation);
}

std::vector<int64_t> PostgresTransaction::append_run_events(
    const std::string& run_id, const std::string& owner_incarnation,
    const std::vector<NewRunEvent>& events, const std::optional<RunEnding>& ending) {
  const auto count = static_cast<int64_t>(events.size());
  std::optional<std::string> status;
  std::optional<std::string> is_error;
  std::optional<std::string> ended_at;
  std::optional<std::string> result;
  std::optional<std::string> error;
  if (ending) {
    status = to_string(ending->is_error ? RunStatus::errored : RunStatus::completed);
    is_error = ending->is_error ? "true" : "false";
    ended_at = std::to_string(ending->ended_at_ms);
    result = ending->result_json;
    error = ending->error_json;
  }
  const pqxx::result advanced =
      run(st::kAdvanceRun, run_id, owner_incarnation, count, nullable(status), nullable(is_error),
          nullable(result), nullable(error), nullable(ended_at));
  if (advanced.empty()) {
    throw FencedError("run " + run_id + " is not active under incarnation " + owner_incarnation);
  }
  const auto first = advanced[0][0].as<int64_t>();
  std::vector<int64_t> indexes;
  if (events.empty()) return indexes;
  ArrayLiteral types;
  ArrayLiteral timestamps;
  ArrayLiteral data;
  for (const NewRunEvent& event : events) {
    types.text(event.type);
    timestamps.number(event.timestamp_ms);
    data.text(event.data_json);
    indexes.push_back(first + static_cast<int64_t>(indexes.size()));
  }
  run(st::kInsertRunEvents, run_id, first, types.finish(), timestamps.finish(), data.finish());
  return indexes;
}

std::optional<RunRecord> PostgresTransaction::get_run(const std::string& run_id) {
  const pqxx::result rows = run(st::kRunById, run_id);
  if (rows.empty()) return std::nullopt;
  return read_run(rows[0]);
}

std::vector<StoredRunEvent> PostgresTransaction::read_run_events(
    const std::string& run_id, int64_t after, int limit, const std::vector<std::string>& types) {
  std::optional<std::string> wanted;
  if (!types.empty()) {
    ArrayLiteral array;
    for (const std::string& type : types) array.text(type);
    wanted = array.finish();
  }
  std::vector<StoredRunEvent> out;
  for (const auto& row :
       run(st::kReadRunEvents, run_id, after, nullable(wanted), int64_t{std::max(limit, 0)})) {
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<int64_t>(),
                   row[3].as<std::string>()});
  }
  return out;
}

std::vector<RunRecord> PostgresTransaction::list_runs(const RunFilter& filter) {
  const RunCursor cursor =
      filter.before ? *filter.before : RunCursor{std::numeric_limits<int64_t>::max(), ""};
  const int64_t limit = std::max(filter.limit, 0);
  if (filter.status && filter.workflow_name) {
    return read_runs(run(st::kListRunsByWorkflowStatus, cursor.started_at_ms, cursor.run_id, limit,
                         to_string(*filter.status), *filter.workflow_name));
  }
  if (filter.status) {
    return read_runs(run(st::kListRunsByStatus, cursor.started_at_ms, cursor.run_id, limit,
                         to_string(*filter.status)));
  }
  if (filter.workflow_name) {
    return read_runs(run(st::kListRunsByWorkflow, cursor.started_at_ms, cursor.run_id, limit,
                         *filter.workflow_name));
  }
  return read_runs(run(st::kListRuns, cursor.started_at_ms, cursor.run_id, limit));
}

std::vector<RunRecord> PostgresTransaction::interrupted_runs(const NodeIdentity& me, int limit) {
  return read_runs(
      run(st::kInterruptedRuns, me.node_id, me.incarnation, now_ms(), int64_t{std::max(limit, 0)}));
}

}  // namespace sluice::persistence::postgres
