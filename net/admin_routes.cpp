#include "net/admin_routes.hpp"

#include <filesystem>
#include <map>

#include "core/clock.hpp"
#include "net/openapi_operations.hpp"
#include "net/request_validation.hpp"
#include "net/responses.hpp"
#include "net/storage_reads.hpp"

namespace sluice::net {
namespace {

// Where an agent was defined, relative to its project: the server's own
// file-system layout is nobody's business ("" for an agent built in code).
std::string project_relative(const std::filesystem::path& root, const std::string& source) {
  if (source.empty()) return source;
  const std::filesystem::path relative = std::filesystem::path(source).lexically_relative(root);
  if (relative.empty() || *relative.begin() == "..") {
    return std::filesystem::path(source).filename().string();
  }
  return relative.string();
}

}  // namespace

void add_admin_routes(RouteTable& table, AdminServices services) {
  table.add(
      {"GET", "/admin/sessions/:name/:id",
       "One agent instance's sessions: owner, queue depth, running, last outcome",
       [services](HttpRequest&, const PathParams& params, std::shared_ptr<Responder> responder) {
         const std::string& name = params.at("name");
         if (!services.project->current()->agents.contains(name)) {
           responder->respond(
               error_response(make_error("agent_not_found", "No agent is named '" + name + "'.")));
           return;
         }
         if (auto error = check_instance_id(params.at("id"))) {
           responder->respond(error_response(*error));
           return;
         }
         respond_from_storage(
             *services.storage, std::move(responder),
             [name, instance = params.at("id")](persistence::Transaction& txn) {
               nlohmann::json sessions = nlohmann::json::array();
               for (const auto& s : txn.instance_sessions(name, instance)) {
                 sessions.push_back(
                     {{"session", s.session},
                      {"owner", s.owner_node.empty() ? nlohmann::json() : nlohmann::json(s.owner_node)},
                      {"queueDepth", s.queue_depth},
                      {"running", s.running},
                      {"lastOutcome",
                       s.last_outcome.empty() ? nlohmann::json() : nlohmann::json(s.last_outcome)}});
               }
               return json_response(200, {{"sessions", sessions}});
             });
       },
       openapi::admin_sessions_operation()});
  table.add({"GET", "/admin/agents", "The agents this node serves, their models and transports",
             [project = services.project](HttpRequest&, const PathParams&,
                                          std::shared_ptr<Responder> responder) {
               const auto current = project->current();
               nlohmann::json items = nlohmann::json::array();
               for (const auto& [name, agent] : current->agents) {
                 // Flue's shape: a flag per transport, none for an unexposed agent.
                 nlohmann::json transports = nlohmann::json::object();
                 if (agent.expose_http) transports["http"] = true;
                 if (agent.expose_websocket) transports["websocket"] = true;
                 items.push_back({{"name", name},
                                  {"transports", transports},
                                  {"created", true},
                                  {"model", agent.model},
                                  {"source", project_relative(current->root, agent.source_file)}});
               }
               responder->respond(json_response(200, {{"items", items}}));
             },
             openapi::admin_agents_operation()});
  table.add(
      {"GET", "/admin/cluster", "Cluster members, their state, sessions owned and queue depths",
       [services](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
         // Taken now, on the io thread: the storage read runs later elsewhere.
         const std::vector<std::string> view = services.view();
         respond_from_storage(*services.storage, std::move(responder), [services, view](
                                                                           persistence::Transaction&
                                                                               txn) {
           const auto nodes = txn.list_nodes();
           std::map<std::string, persistence::NodeWorkload> loads;
           for (auto& load : txn.node_workloads()) loads[load.node_id] = load;
           const int64_t now = now_ms();
           nlohmann::json members = nlohmann::json::array();
           for (const auto& node : nodes) {
             const auto load = loads.find(node.node_id);
             members.push_back(
                 {{"nodeId", node.node_id},
                  {"incarnation", node.incarnation},
                  {"advertise", node.advertise},
                  {"state", node.lease_expires_at_ms >= now ? "live" : "expired"},
                  {"leaseExpiresAt", iso8601(node.lease_expires_at_ms)},
                  {"registeredAt", iso8601(node.registered_at_ms)},
                  {"sessionsOwned", load == loads.end() ? 0 : load->second.sessions_owned},
                  {"queueDepth", load == loads.end() ? 0 : load->second.unsettled},
                  {"self", node.node_id == services.self_node_id}});
           }
           return json_response(200, {{"node", services.self_node_id},
                                      {"mode", services.cluster ? "cluster" : "single"},
                                      {"leaseMs", services.lease_ms},
                                      {"view", view},
                                      {"members", members}});
         });
       },
       openapi::admin_cluster_operation()});
}

}  // namespace sluice::net
