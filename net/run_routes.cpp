#include "net/run_routes.hpp"

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "net/request_validation.hpp"
#include "net/responses.hpp"
#include "net/run_cursor.hpp"
#include "net/run_openapi.hpp"
#include "net/run_stream.hpp"
#include "net/storage_reads.hpp"
#include "workflows/run_json.hpp"

namespace sluice::net {
namespace {

using persistence::RunFilter;
using persistence::RunRecord;
using persistence::Transaction;

constexpr int64_t kDefaultEventLimit = 100;
constexpr int64_t kMaxEventLimit = 1000;
constexpr int64_t kDefaultRunLimit = 50;
constexpr int64_t kMaxRunLimit = 1000;  // as Flue's clients may ask

PublicError run_not_found(const std::string& run_id) {
  return make_error("run_not_found", "No run '" + run_id + "'.");
}

PublicError invalid(std::string message) {
  return make_error("invalid_request", std::move(message));
}

// Absent or empty: from the first event. Otherwise an event index; -1 is
// accepted too (what the error frame of a stream that sent nothing carries).
std::optional<int64_t> parse_last_event_id(const std::string& text) {
  if (text.empty()) return -1;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < -1) return std::nullopt;
  return value;
}

// A run in a list: its record without payload and result, which can be large
// (GET /admin/runs/:runId has them).
nlohmann::json run_summary_json(const RunRecord& run) {
  nlohmann::json json = workflows::run_record_json(run);
  json.erase("payload");
  json.erase("result");
  return json;
}

class RunRoutes {
 public:
  explicit RunRoutes(RunRouteDeps deps)
      : deps_(deps), streams_(*deps.storage, deps.hub, deps.poll_interval) {}

  // GET /runs/:runId and GET /admin/runs/:runId
  void record(HttpRequest&, const PathParams& params, std::shared_ptr<Responder> responder) {
    respond_from_storage(*deps_.storage, std::move(responder),
                         [run_id = params.at("runId")](Transaction& txn) {
                           auto run = txn.get_run(run_id);
                           if (!run) return error_response(run_not_found(run_id));
                           return json_response(200, workflows::run_record_json(*run));
                         });
  }

  void events(HttpRequest& request, const PathParams& params,
              std::shared_ptr<Responder> responder) {
    int64_t after = -1;
    int64_t limit = kDefaultEventLimit;
    std::optional<PublicError> error = read_int_param(request, "after", -1, INT64_MAX, after);
    if (!error) error = read_int_param(request, "limit", 1, kMaxEventLimit, limit);
    if (error) {
      responder->respond(error_response(*error));
      return;
    }
    std::vector<std::string> types = split_comma_list(request.query_param("types").value_or(""));
    respond_from_storage(
        *deps_.storage, std::move(responder),
        [run_id = params.at("runId"), after, limit, types](Transaction& txn) {
          if (!txn.get_run(run_id)) return error_response(run_not_found(run_id));
          nlohmann::json events = nlohmann::json::array();
          for (const auto& event :
               txn.read_run_events(run_id, after, static_cast<int>(limit), types)) {
            events.push_back(workflows::run_event_json(event));
          }
          return json_response(200, {{"events", std::move(events)}});
        });
  }

  void stream(HttpRequest& request, const PathParams& params,
              std::shared_ptr<Responder> responder) {
    auto after = parse_last_event_id(request.header("Last-Event-ID"));
    if (!after) {
      responder->respond(error_response(
          invalid("Header Last-Event-ID must be an event index (an integer, -1 or more).")));
      return;
    }
    streams_.start(params.at("runId"), *after, std::move(responder));
  }

  void list(HttpRequest& request, const PathParams&, std::shared_ptr<Responder> responder) {
    RunFilter filter;
    int64_t limit = kDefaultRunLimit;
    std::optional<PublicError> error = read_int_param(request, "limit", 1, kMaxRunLimit, limit);
    if (auto status = request.query_param("status"); status && !error) {
      filter.status = persistence::parse_run_status(*status);
      if (!filter.status) {
        error = invalid("Query parameter 'status' must be active, completed or errored.");
      }
    }
    if (auto cursor = request.query_param("cursor"); cursor && !error) {
      filter.before = decode_run_cursor(*cursor);
      if (!filter.before) {
        error = invalid("Query parameter 'cursor' is not a cursor this server gave out.");
      }
    }
    if (error) {
      responder->respond(error_response(*error));
      return;
    }
    if (auto name = request.query_param("workflowName"); name && !name->empty()) {
      filter.workflow_name = *name;
    }
    // One run more than asked for tells whether another page exists.
    filter.limit = static_cast<int>(limit) + 1;
    respond_from_storage(*deps_.storage, std::move(responder), [filter, limit](Transaction& txn) {
      std::vector<RunRecord> runs = txn.list_runs(filter);
      const bool more = static_cast<int64_t>(runs.size()) > limit;
      if (more) runs.resize(static_cast<size_t>(limit));
      nlohmann::json list = nlohmann::json::array();
      for (const auto& run : runs) list.push_back(run_summary_json(run));
      nlohmann::json body = {{"items", std::move(list)}};
      if (more) {
        body["nextCursor"] = encode_run_cursor({runs.back().started_at_ms, runs.back().run_id});
      }
      return json_response(200, body);
    });
  }

 private:
  RunRouteDeps deps_;
  RunStreams streams_;
};

}  // namespace

void add_run_routes(RouteTable& table, RunRouteDeps deps) {
  auto routes = std::make_shared<RunRoutes>(deps);
  auto bind = [routes](auto method) {
    return [routes, method](HttpRequest& request, const PathParams& params,
                            std::shared_ptr<Responder> responder) {
      ((*routes).*method)(request, params, std::move(responder));
    };
  };
  table.add({"GET", "/runs/:runId", "A workflow run's record", bind(&RunRoutes::record),
             openapi::run_record_operation()});
  table.add({"GET", "/runs/:runId/events",
             "A run's persisted events after an index (after, limit, types)",
             bind(&RunRoutes::events), openapi::run_events_operation()});
  table.add({"GET", "/runs/:runId/stream",
             "SSE of a run's events, resuming after Last-Event-ID, until run_end",
             bind(&RunRoutes::stream), openapi::run_stream_operation()});
  table.add({"GET", "/admin/runs",
             "Run summaries, newest first (status, workflowName, limit, cursor)",
             bind(&RunRoutes::list), openapi::admin_runs_operation()});
  table.add({"GET", "/admin/runs/:runId", "A workflow run's record", bind(&RunRoutes::record),
             openapi::run_record_operation()});
}

}  // namespace sluice::net
