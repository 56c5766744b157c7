#pragma once
// Route::operation fragments (net/route_table.hpp) of the run routes
// (net/run_routes.hpp): what each accepts and answers.
#include <nlohmann/json.hpp>

namespace sluice::net::openapi {

nlohmann::json run_record_operation();
nlohmann::json run_events_operation();
nlohmann::json run_stream_operation();
nlohmann::json admin_runs_operation();

}  // namespace sluice::net::openapi
