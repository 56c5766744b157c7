// The unfenced reads of SqliteTransaction.
#include <algorithm>

#include "persistence/sqlite_rows.hpp"
#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence::sqlite {
namespace {

// A negative LIMIT means "no limit" to sqlite; a page never asks for that.
int64_t page_limit(const Page& page) {
  return std::max(page.limit, 0);
}

}  // namespace

std::optional<SubmissionRecord> SqliteTransaction::find_submission(const std::string& id) {
  Statement statement = db_.prepare(queries::kSubmissionById);
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return read_submission(statement);
}

std::optional<SubmissionRecord> SqliteTransaction::get_submission(
    const std::string& agent, const std::string& instance, const std::string& submission_id) {
  Statement statement = db_.prepare(queries::kSubmissionOfInstance);
  statement.bind(1, submission_id).bind(2, agent).bind(3, instance);
  if (!statement.step()) return std::nullopt;
  return read_submission(statement);
}

std::vector<SubmissionRecord> SqliteTransaction::list_submissions(
    const SessionKey& key, std::optional<SubmissionState> state, const Page& page) {
  const std::string session_key = key.str();
  Statement statement = db_.prepare(queries::kListSubmissions);
  statement.bind(1, session_key).bind(2, page.after);
  if (state) {
    statement.bind_static(3, to_string(*state));
  } else {
    statement.bind_null(3);
  }
  statement.bind(4, page_limit(page));
  std::vector<SubmissionRecord> out;
  while (statement.step()) out.push_back(read_submission(statement));
  return out;
}

std::vector<HistoryEntry> SqliteTransaction::read_history(const SessionKey& key, const Page& page) {
  const std::string session_key = key.str();
  Statement statement = db_.prepare(queries::kReadHistory);
  statement.bind(1, session_key).bind(2, page.after).bind(3, page_limit(page));
  std::vector<HistoryEntry> out;
  while (statement.step()) out.push_back(read_entry(statement));
  return out;
}

}  // namespace sluice::persistence::sqlite
