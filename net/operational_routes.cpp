#include "net/operational_routes.hpp"

#include "net/openapi_operations.hpp"
#include "net/responses.hpp"

namespace sluice::net {

void add_operational_routes(RouteTable& table, OperationalServices services) {
  table.add({"GET", "/healthz", "Liveness",
             [](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
               responder->respond(json_response(200, {{"ok", true}}));
             },
             openapi::healthz_operation()});
  table.add(
      {"GET", "/readyz", "Readiness: storage reachable and the node's lease held",
       [services](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
         const Readiness readiness = services.readiness();
         if (readiness.ready) {
           responder->respond(json_response(200, {{"ready", true}, {"checks", readiness.checks}}));
         } else {
           responder->respond(error_response(make_error("unavailable", "This node is not ready.",
                                                        "", {{"checks", readiness.checks}})));
         }
       },
       openapi::readyz_operation()});
  table.add({"GET", "/metrics", "Prometheus metrics",
             [services](HttpRequest&, const PathParams&, std::shared_ptr<Responder> responder) {
               HttpResponse response;
               response.content_type = "text/plain; version=0.0.4";
               response.body = services.metrics->render();
               responder->respond(std::move(response));
             },
             openapi::metrics_operation()});
}

}  // namespace sluice::net
