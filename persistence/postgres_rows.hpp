#pragma once
// Mapping between Postgres rows and records, shared by every query that returns
// them. A query selects the matching column list of postgres_statements.cpp and
// reads each row with the matching function.
#include <pqxx/row>

#include "persistence/records.hpp"

namespace sluice::persistence::postgres {

SubmissionRecord read_submission(const pqxx::row& row);
HistoryEntry read_entry(const pqxx::row& row);
RunRecord read_run(const pqxx::row& row);

}  // namespace sluice::persistence::postgres
