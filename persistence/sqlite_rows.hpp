#pragma once
// Mapping between rows and records, shared by every query that returns them.
// A query selects the matching column list of sqlite_queries.hpp and reads each
// row with the matching function.
#include "persistence/records.hpp"
#include "persistence/sqlite_connection.hpp"
#include "persistence/sqlite_queries.hpp"

namespace sluice::persistence::sqlite {

SubmissionRecord read_submission(const Statement& row);
HistoryEntry read_entry(const Statement& row);
RunRecord read_run(const Statement& row);

}  // namespace sluice::persistence::sqlite
