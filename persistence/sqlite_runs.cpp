// Workflow runs and their events in SqliteTransaction.
#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "persistence/sqlite_rows.hpp"
#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence::sqlite {
namespace {

// One statement checks the owner, takes the indexes and, with an ending
// (?4 non-NULL), settles the run: a NULL parameter leaves its column as it is.
constexpr const char* kAdvanceRun =
    "UPDATE runs SET next_event_index = next_event_index + ?3, status = COALESCE(?4, status), "
    "is_error = COALESCE(?5, is_error), result_json = COALESCE(?6, result_json), "
    "error_json = COALESCE(?7, error_json), ended_at_ms = COALESCE(?8, ended_at_ms) "
    "WHERE run_id = ?1 AND status = 'active' AND owner_incarnation = ?2 "
    "RETURNING next_event_index - ?3";

// A page with no cursor starts before every run.
RunCursor cursor_of(const RunFilter& filter) {
  if (filter.before) return *filter.before;
  return RunCursor{std::numeric_limits<int64_t>::max(), ""};
}

}  // namespace

void SqliteTransaction::create_run(const RunRecord& run) {
  Statement statement = db_.prepare(
      "INSERT INTO runs (run_id, workflow_name, status, payload_json, started_at_ms, owner_node, "
      "owner_incarnation) VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6)");
  statement.bind(1, run.run_id).bind(2, run.workflow_name).bind(3, run.payload_json);
  statement.bind(4, run.started_at_ms).bind(5, run.owner_node).bind(6, run.owner_incarnation);
  statement.run();
}

std::vector<int64_t> SqliteTransaction::append_run_events(const std::string& run_id,
                                                          const std::string& owner_incarnation,
                                                          const std::vector<NewRunEvent>& events,
                                                          const std::optional<RunEnding>& ending) {
  const auto count = static_cast<int64_t>(events.size());
  int64_t first = 0;
  {
    Statement statement = db_.prepare(kAdvanceRun);
    statement.bind(1, run_id).bind(2, owner_incarnation).bind(3, count);
    if (ending) {
      statement.bind_static(
          4, to_string(ending->is_error ? RunStatus::errored : RunStatus::completed));
      statement.bind(5, int64_t{ending->is_error ? 1 : 0});
      statement.bind(6, ending->result_json).bind(7, ending->error_json);
      statement.bind(8, ending->ended_at_ms);
    } else {
      for (int index = 4; index <= 8; ++index) statement.bind_null(index);
    }
    if (!statement.step()) {
      throw FencedError("run " + run_id + " is not active under incarnation " + owner_incarnation);
    }
    first = statement.int64(0);
  }
  std::vector<int64_t> indexes;
  indexes.reserve(events.size());
  for (const NewRunEvent& event : events) {
    const int64_t index = first + static_cast<int64_t>(indexes.size());
    Statement statement = db_.prepare(
        "INSERT INTO run_events (run_id, event_index, type, timestamp_ms, data_json) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    statement.bind(1, run_id).bind(2, index).bind(3, event.type).bind(4, event.timestamp_ms);
    statement.bind(5, event.data_json).run();
    indexes.push_back(index);
  }
  return indexes;
}

std::optional<RunRecord> SqliteTransaction::get_run(const std::string& run_id) {
  Statement statement = db_.prepare(queries::kRunById);
  statement.bind(1, run_id);
  if (!statement.step()) return std::nullopt;
  return read_run(statement);
}

std::vector<StoredRunEvent> SqliteTransaction::read_run_events(
    const std::string& run_id, int64_t after, int limit, const std::vector<std::string>& types) {
  const std::string wanted = types.empty() ? std::string() : nlohmann::json(types).dump();
  Statement statement = db_.prepare(queries::kReadRunEvents);
  statement.bind(1, run_id).bind(2, after);
  if (types.empty()) {
    statement.bind_null(3);
  } else {
    statement.bind(3, wanted);
  }
  statement.bind(4, int64_t{std::max(limit, 0)});
  std::vector<StoredRunEvent> out;
  while (statement.step()) {
    out.push_back({statement.int64(0), statement.text(1), statement.int64(2), statement.text(3)});
  }
  return out;
}

std::vector<RunRecord> SqliteTransaction::list_runs(const RunFilter& filter) {
  const char* sql = queries::kListRuns;
  if (filter.status && filter.workflow_name) {
    sql = queries::kListRunsByWorkflowStatus;
  } else if (filter.status) {
    sql = queries::kListRunsByStatus;
  } else if (filter.workflow_name) {
    sql = queries::kListRunsByWorkflow;
  }
  const RunCursor cursor = cursor_of(filter);
  Statement statement = db_.prepare(sql);
  statement.bind(1, cursor.started_at_ms).bind(2, cursor.run_id);
  statement.bind(3, int64_t{std::max(filter.limit, 0)});
  int next = 4;
  if (filter.status) statement.bind_static(next++, to_string(*filter.status));
  if (filter.workflow_name) statement.bind(next, *filter.workflow_name);
  std::vector<RunRecord> out;
  while (statement.step()) out.push_back(read_run(statement));
  return out;
}

std::vector<RunRecord> SqliteTransaction::interrupted_runs(const NodeIdentity& me, int limit) {
  Statement statement = db_.prepare(queries::kInterruptedRuns);
  statement.bind(1, me.node_id).bind(2, me.incarnation).bind(3, now_ms());
  statement.bind(4, int64_t{std::max(limit, 0)});
  std::vector<RunRecord> out;
  while (statement.step()) out.push_back(read_run(statement));
  return out;
}

}  // namespace sluice::persistence::sqlite
