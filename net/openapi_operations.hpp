#pragma once
// Route::operation fragments (see net/route_table.hpp) of the agent, admin and
// operational routes: what each accepts and answers, per PROTOCOL.md. Kept
// here so the registration files stay about handling requests.
#include <nlohmann/json.hpp>

namespace sluice::net::openapi {

nlohmann::json agent_prompt_operation();
nlohmann::json agent_dispatch_operation();
nlohmann::json agent_abort_operation();
nlohmann::json agent_submissions_operation();
nlohmann::json agent_submission_operation();
nlohmann::json agent_history_operation();
nlohmann::json agent_delete_operation();

nlohmann::json workflow_start_operation();

nlohmann::json admin_sessions_operation();
nlohmann::json admin_agents_operation();
nlohmann::json admin_cluster_operation();

nlohmann::json healthz_operation();
nlohmann::json readyz_operation();
nlohmann::json metrics_operation();
nlohmann::json openapi_document_operation();

}  // namespace sluice::net::openapi
