#include "actors/interrupted_run.hpp"

#include <nlohmann/json.hpp>

#include "actors/run_events.hpp"
#include "core/public_error.hpp"

namespace sluice::actors {
namespace {

persistence::NewRunEvent event_of(nlohmann::json data, int64_t now) {
  persistence::NewRunEvent event;
  event.type = data.at("type").get<std::string>();
  event.timestamp_ms = now;
  event.data_json = data.dump();
  return event;
}

}  // namespace

RunClosing close_interrupted_run(const persistence::RunRecord& run, int64_t now) {
  const nlohmann::json error =
      make_error("internal_error",
                 "The run was interrupted: the node running it (" + run.owner_node +
                     ") stopped. Workflows are not replayed.",
                 "Start the workflow again if its effects allow it.",
                 {{"reason", "node_lost"}, {"runId", run.run_id}})
          .to_json();
  RunClosing closing;
  closing.ending.is_error = true;
  closing.ending.error_json = error.dump();
  closing.ending.ended_at_ms = now;
  closing.events.push_back(event_of(run_resume_event(run, now), now));
  closing.events.push_back(event_of(run_end_event(run, closing.ending), now));
  return closing;
}

}  // namespace sluice::actors
