// The run inspection routes over a real socket and a real SQLite file. Runs
// and events are written straight through the store, as the run's owner would.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "net/http_server.hpp"
#include "net/route_table.hpp"
#include "net/run_routes.hpp"
#include "persistence/executor.hpp"
#include "persistence/open_database.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "workflows/run_hub.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using nlohmann::json;
using persistence::NewRunEvent;
using persistence::RunEnding;
using persistence::RunRecord;
using persistence::RunStatus;
using persistence::StorageError;
using persistence::Transaction;
using test::HttpClient;
using test::SseEvent;
using test::SseStream;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kOwner = "incarnation-1";

// Storage, hub, routes and server, destroyed in that reverse order (the routes
// before the storage and hub they use).
struct RunServer {
  explicit RunServer(std::chrono::milliseconds poll_interval = 50ms) {
    storage = std::make_unique<persistence::StorageExecutor>(
        persistence::open_database((dir / "runs.db").string()),
        persistence::StorageExecutor::Options{});
    routes = std::make_unique<net::RouteTable>();
    net::add_run_routes(*routes, {storage.get(), &hub, poll_interval});
    net::ServerOptions options;
    options.port = 0;
    server = std::make_unique<net::HttpServer>(
        options, [table = routes.get()](net::HttpRequest request,
                                        std::shared_ptr<net::Responder> responder) {
          table->dispatch(std::move(request), std::move(responder));
        });
    server->start();
  }
  ~RunServer() {
    server->stop();
    routes.reset();
  }
  uint16_t port() const { return server->port(); }

  template <class R>
  R sync(std::function<R(Transaction&)> work) {
    auto result = storage->run_sync<R>(std::move(work));
    if (auto* error = std::get_if<StorageError>(&result)) FAIL("storage: " << error->message);
    return std::get<R>(std::move(result));
  }

  std::string create_run(const std::string& workflow, int64_t started_at_ms,
                         json payload = {{"name", "ada"}}) {
    RunRecord run;
    run.run_id = "workflow:" + workflow + ":" + new_ulid();
    run.workflow_name = workflow;
    run.payload_json = payload.dump();
    run.started_at_ms = started_at_ms;
    run.owner_node = "node-a";
    run.owner_incarnation = kOwner;
    sync<bool>([run](Transaction& txn) {
      txn.create_run(run);
      return true;
    });
    return run.run_id;
  }

  // Appends events of these types (a run_end also ends the run) and returns
  // their indexes.
  std::vector<int64_t> append(const std::string& run_id, const std::vector<std::string>& types,
                              bool publish = false) {
    std::vector<NewRunEvent> events;
    std::optional<RunEnding> ending;
    const int64_t now = now_ms();
    for (const auto& type : types) {
      json data = {{"type", type}, {"runId", run_id}, {"timestamp", iso8601(now)}};
      if (type == "run_end") {
        data.update({{"result", "done"}, {"isError", false}, {"error", nullptr}});
        ending = RunEnding{false, std::string("\"done\""), std::nullopt, now};
      }
      events.push_back({type, now, data.dump()});
    }
    auto indexes = sync<std::vector<int64_t>>([run_id, events, ending](Transaction& txn) {
      return txn.append_run_events(run_id, kOwner, events, ending);
    });
    if (publish && !indexes.empty()) hub.publish(run_id, indexes.back(), ending.has_value());
    return indexes;
  }

  test::TempDir dir{"sluice-run-routes"};
  std::unique_ptr<persistence::StorageExecutor> storage;
  workflows::RunHub hub;
  std::unique_ptr<net::RouteTable> routes;
  std::unique_ptr<net::HttpServer> server;
};

std::vector<std::string> repeat(const std::string& type, int count) {
  return std::vector<std::string>(static_cast<size_t>(count), type);
}

std::string stream_path(const std::string& run_id) {
  return "/runs/" + run_id + "/stream";
}

// Reads `count` events and checks they carry the indexes first, first+1, ...
// in their id, their data and nowhere else.
std::vector<SseEvent> read_events(SseStream& stream, int64_t first, int count,
                                  std::chrono::milliseconds timeout = 5s) {
  std::vector<SseEvent> events;
  for (int i = 0; i < count; ++i) {
    auto event = stream.next(timeout);
    REQUIRE(event);
    INFO("event " << i << ": " << event->event << " " << event->data);
    REQUIRE(event->id == std::to_string(first + i));
    REQUIRE(event->json()["eventIndex"] == first + i);
    REQUIRE(event->json()["type"] == event->event);
    events.push_back(*event);
  }
  return events;
}

std::vector<std::string> run_ids(const json& runs) {
  std::vector<std::string> ids;
  for (const auto& run : runs) ids.push_back(run["runId"]);
  return ids;
}

}  // namespace

TEST_CASE("GET /runs/:runId and /admin/runs/:runId answer the run record", "[net][runs]") {
  RunServer server;
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", 1'700'000'000'000, {{"name", "ada"}});

  for (const std::string prefix : {"/runs/", "/admin/runs/"}) {
    auto response = client.request("GET", prefix + id);
    REQUIRE(response.status == 200);
    const json run = response.json();
    CHECK(run["runId"] == id);
    CHECK(run["owner"] == json{{"kind", "workflow"}, {"workflowName", "greet"}, {"instanceId", id}});
    CHECK(run["status"] == "active");
    CHECK(run["startedAt"] == "2023-11-14T22:13:20.000Z");
    CHECK(run["payload"] == json{{"name", "ada"}});
    for (const char* ending : {"endedAt", "isError", "durationMs", "result", "error"}) {
      CHECK_FALSE(run.contains(ending));  // absent while active, as Flue's clients expect
    }
  }

  server.append(id, {"run_start", "run_end"});
  const json ended = client.request("GET", "/runs/" + id).json();
  CHECK(ended["status"] == "completed");
  CHECK(ended["result"] == "done");
  CHECK(ended["isError"] == false);
  CHECK(ended["endedAt"].is_string());

  for (const std::string path : {"/runs/workflow:greet:01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                 "/admin/runs/workflow:greet:01ARZ3NDEKTSV4RRFFQ69G5FAV",
                                 "/runs/not-a-run-id", "/runs/workflow:greet:01ARZ3NDEKTSV4RRFFQ69G5FAV/events"}) {
    auto missing = client.request("GET", path);
    INFO(path);
    CHECK(missing.status == 404);
    CHECK(missing.json()["error"]["type"] == "run_not_found");
  }
  CHECK(client.request("POST", "/runs/" + id).status == 405);
}

TEST_CASE("GET /runs/:runId/events pages by after, limit and types", "[net][runs]") {
  RunServer server;
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start", "log", "turn_start", "log", "turn_end", "run_end"});
  auto events = [&](const std::string& query) {
    auto response = client.request("GET", "/runs/" + id + "/events" + query);
    REQUIRE(response.status == 200);
    return response.json()["events"];
  };
  auto indexes = [](const json& list) {
    std::vector<int64_t> out;
    for (const auto& e : list) out.push_back(e["eventIndex"]);
    return out;
  };

  const json all = events("");
  REQUIRE(indexes(all) == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(all[0]["type"] == "run_start");
  CHECK(all[0]["runId"] == id);
  CHECK(all[5]["result"] == "done");
  CHECK(indexes(events("?after=-1")) == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(indexes(events("?after=2")) == std::vector<int64_t>{3, 4, 5});
  CHECK(indexes(events("?after=1&limit=2")) == std::vector<int64_t>{2, 3});
  CHECK(indexes(events("?after=5")).empty());
  CHECK(indexes(events("?types=log,run_end")) == std::vector<int64_t>{1, 3, 5});
  CHECK(indexes(events("?types=log&after=1")) == std::vector<int64_t>{3});
  CHECK(indexes(events("?types=")) == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(indexes(events("?limit=1000")).size() == 6);

  for (const std::string bad : {"?limit=0", "?limit=1001", "?limit=x", "?after=-2", "?after=1.5"}) {
    auto response = client.request("GET", "/runs/" + id + "/events" + bad);
    INFO(bad);
    CHECK(response.status == 400);
    CHECK(response.json()["error"]["type"] == "invalid_request");
    CHECK_FALSE(response.json()["error"]["message"].get<std::string>().empty());
  }
}

TEST_CASE("the run stream of an ended run sends every event and closes", "[net][runs][sse]") {
  RunServer server;
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start", "log", "log", "run_end"});

  auto stream = client.open_sse("GET", stream_path(id));
  REQUIRE(stream.status() == 200);
  CHECK(stream.header("Content-Type").starts_with("text/event-stream"));
  auto events = read_events(stream, 0, 4);
  CHECK(events[0].event == "run_start");
  CHECK(events[3].event == "run_end");
  CHECK(events[3].json()["runId"] == id);
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("the run stream resumes after Last-Event-ID", "[net][runs][sse]") {
  RunServer server;
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start", "log", "log", "log", "run_end"});

  auto stream = client.open_sse("GET", stream_path(id), {}, {{"Last-Event-ID", "2"}});
  REQUIRE(stream.status() == 200);
  read_events(stream, 3, 2);
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());

  auto from_start = client.open_sse("GET", stream_path(id), {}, {{"Last-Event-ID", "-1"}});
  read_events(from_start, 0, 5);
  CHECK_FALSE(from_start.next(5s));

  // Past the end of an ended run: nothing to send, the stream closes at once.
  auto past = client.open_sse("GET", stream_path(id), {}, {{"Last-Event-ID", "4"}});
  REQUIRE(past.status() == 200);
  CHECK_FALSE(past.next(5s));
  CHECK(past.complete());

  for (const std::string bad : {"x", "1.5", "-2", "3a"}) {
    INFO(bad);
    auto refused = client.request("GET", stream_path(id), {},
                                  {{"Accept", "text/event-stream"}, {"Last-Event-ID", bad}});
    CHECK(refused.status == 400);
    CHECK(refused.json()["error"]["type"] == "invalid_request");
  }
  auto missing = client.request("GET", stream_path("workflow:greet:01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                                {}, {{"Accept", "text/event-stream"}});
  CHECK(missing.status == 404);
  CHECK(missing.json()["error"]["type"] == "run_not_found");
}

TEST_CASE("the run stream delivers events announced by the hub as they become durable",
          "[net][runs][sse]") {
  // A poll so slow that only the hub's announcements can deliver in time.
  RunServer server(1h);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start", "log"}, true);

  auto stream = client.open_sse("GET", stream_path(id));
  REQUIRE(stream.status() == 200);
  read_events(stream, 0, 2);
  server.append(id, {"turn_start", "log", "turn_end"}, true);
  read_events(stream, 2, 3);
  server.append(id, {"log"}, true);
  read_events(stream, 5, 1);
  server.append(id, {"log", "run_end"}, true);
  auto last = read_events(stream, 6, 2);
  CHECK(last[1].event == "run_end");
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("the run stream polls the store for events nobody announced", "[net][runs][sse]") {
  // As for a run owned by another node: nothing is published to this hub.
  RunServer server(30ms);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start"});

  auto stream = client.open_sse("GET", stream_path(id), {}, {{"Last-Event-ID", "0"}});
  REQUIRE(stream.status() == 200);
  server.append(id, {"log", "log"});
  read_events(stream, 1, 2);
  server.append(id, {"log", "run_end"});
  read_events(stream, 3, 2);
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("a run stream racing many small appends sends each index once, in order",
          "[net][runs][sse]") {
  RunServer server(5ms);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  // A backlog longer than one storage page, then live appends.
  server.append(id, repeat("log", 1200));
  constexpr int kBatches = 150;
  std::atomic<bool> writer_failed{false};

  auto stream = client.open_sse("GET", stream_path(id), {}, {{"Last-Event-ID", "10"}});
  REQUIRE(stream.status() == 200);
  std::thread writer([&] {
    try {
      for (int i = 0; i < kBatches; ++i) {
        const bool last = i + 1 == kBatches;
        std::vector<NewRunEvent> batch = {{"log", now_ms(), R"({"type":"log"})"},
                                          {last ? "run_end" : "log", now_ms(),
                                           last ? R"({"type":"run_end"})" : R"({"type":"log"})"}};
        std::optional<RunEnding> ending;
        if (last) ending = RunEnding{false, "null", std::nullopt, now_ms()};
        auto result = server.storage->run_sync<std::vector<int64_t>>(
            [&](Transaction& txn) { return txn.append_run_events(id, kOwner, batch, ending); });
        if (!std::holds_alternative<std::vector<int64_t>>(result)) throw std::runtime_error("append");
        // Every other batch is announced: the hub and the poll race the reads.
        if (i % 2 == 0) server.hub.publish(id, std::get<0>(result).back(), last);
        std::this_thread::sleep_for(1ms);
      }
    } catch (...) {
      writer_failed = true;
    }
  });
  std::vector<int64_t> indexes;
  std::string last_type;
  while (auto event = stream.next(10s)) {
    indexes.push_back(std::stoll(event->id));
    last_type = event->event;
  }
  writer.join();
  REQUIRE_FALSE(writer_failed);
  CHECK(stream.complete());
  CHECK(last_type == "run_end");
  const int64_t end = 1200 + 2 * kBatches;  // one past the last index
  REQUIRE(indexes.size() == static_cast<size_t>(end - 11));
  for (size_t i = 0; i < indexes.size(); ++i) {
    if (indexes[i] != static_cast<int64_t>(11 + i)) FAIL("position " << i << ": " << indexes[i]);
  }
}

TEST_CASE("the run stream of a run ended without a run_end event closes at its end",
          "[net][runs][sse]") {
  RunServer server(20ms);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start"});
  auto stream = client.open_sse("GET", stream_path(id));
  read_events(stream, 0, 1);
  // What the coordinator of another node may write for a run whose owner died.
  server.sync<bool>([id](Transaction& txn) {
    txn.append_run_events(id, kOwner, {{"log", now_ms(), R"({"type":"log"})"}},
                          RunEnding{true, std::nullopt, R"({"type":"internal_error"})", now_ms()});
    return true;
  });
  read_events(stream, 1, 1);
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("the run stream closes after run_end even when it arrives live", "[net][runs][sse]") {
  RunServer server(20ms);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  auto stream = client.open_sse("GET", stream_path(id));
  REQUIRE(stream.status() == 200);
  server.append(id, {"run_start", "run_end"});
  auto events = read_events(stream, 0, 2);
  CHECK(events[1].event == "run_end");
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("a run stream whose client left stops reading the store", "[net][runs][sse]") {
  RunServer server(10ms);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start"});
  auto stream = client.open_sse("GET", stream_path(id));
  read_events(stream, 0, 1);
  // While it is open, the stream polls: the storage thread keeps working.
  const uint64_t open_jobs = server.storage->stats().jobs;
  std::this_thread::sleep_for(200ms);
  CHECK(server.storage->stats().jobs > open_jobs + 5);

  stream.close();
  std::this_thread::sleep_for(300ms);  // the server notices and the poll drops it
  const uint64_t jobs = server.storage->stats().jobs;
  std::this_thread::sleep_for(300ms);
  CHECK(server.storage->stats().jobs == jobs);
}

TEST_CASE("a storage failure mid-stream ends the run stream with an error frame",
          "[net][runs][sse]") {
  RunServer server(20ms);
  HttpClient client("127.0.0.1", server.port());
  const std::string id = server.create_run("greet", now_ms());
  server.append(id, {"run_start", "log"});
  auto stream = client.open_sse("GET", stream_path(id));
  read_events(stream, 0, 2);

  server.storage->stop();  // every later read fails
  auto error = stream.next(5s);
  REQUIRE(error);
  CHECK(error->event == "error");
  CHECK(error->id == "1");  // resuming from it loses nothing
  const json data = error->json();
  CHECK(data["error"]["type"] == "unavailable");
  CHECK(data["error"]["message"].is_string());
  CHECK_FALSE(stream.next(5s));
  CHECK(stream.complete());
}

TEST_CASE("GET /admin/runs lists runs newest first in stable cursor pages", "[net][runs][admin]") {
  RunServer server;
  HttpClient client("127.0.0.1", server.port());
  const int64_t base = 1'700'000'000'000;
  std::vector<std::string> older;  // newest first, as listed
  for (int i = 0; i < 5; ++i) older.insert(older.begin(), server.create_run("greet", base + i));
  // Two runs started in the same millisecond: ordered by run id, both listed.
  const std::string tie_a = server.create_run("other", base + 10);
  const std::string tie_b = server.create_run("other", base + 10);
  std::vector<std::string> expected = {std::max(tie_a, tie_b), std::min(tie_a, tie_b)};
  expected.insert(expected.end(), older.begin(), older.end());

  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  while (true) {
    auto response =
        client.request("GET", "/admin/runs?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(response.status == 200);
    const json body = response.json();
    for (const auto& id : run_ids(body["items"])) seen.push_back(id);
    CHECK(body["items"][0].contains("status"));
    CHECK_FALSE(body["items"][0].contains("payload"));
    // New runs arriving between pages land before the cursor, never in the pages still to come.
    server.create_run("greet", now_ms());
    ++pages;
    if (!body.contains("nextCursor")) break;
    cursor = body["nextCursor"];
    CHECK(cursor.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    REQUIRE(pages < 10);
  }
  // The first page already held the two newest; later ones continued below them.
  CHECK(seen == expected);
  CHECK(pages == 4);  // 7 runs by 2: the last page holds one and no cursor
}

TEST_CASE("GET /admin/runs filters by status and workflow and rejects bad queries",
          "[net][runs][admin]") {
  RunServer server;
  HttpClient client("127.0.0.1", server.port());
  const std::string a = server.create_run("greet", 1000);
  const std::string b = server.create_run("greet", 2000);
  const std::string c = server.create_run("other", 3000);
  server.append(b, {"run_start", "run_end"});
  auto list = [&](const std::string& query) {
    auto response = client.request("GET", "/admin/runs" + query);
    REQUIRE(response.status == 200);
    return response.json();
  };

  CHECK(run_ids(list("")["items"]) == std::vector<std::string>{c, b, a});
  CHECK_FALSE(list("").contains("nextCursor"));
  CHECK(run_ids(list("?status=completed")["items"]) == std::vector<std::string>{b});
  CHECK(run_ids(list("?status=active")["items"]) == std::vector<std::string>{c, a});
  CHECK(list("?status=errored")["items"].empty());
  CHECK(run_ids(list("?workflowName=greet")["items"]) == std::vector<std::string>{b, a});
  CHECK(run_ids(list("?workflowName=greet&status=active")["items"]) ==
        std::vector<std::string>{a});
  CHECK(list("?workflowName=nothing")["items"].empty());
  // Exactly one full page: no cursor promising more.
  CHECK_FALSE(list("?limit=3").contains("nextCursor"));
  CHECK(list("?limit=2").contains("nextCursor"));
  const json summary = list("?status=completed")["items"][0];
  CHECK(summary["durationMs"].is_number());
  CHECK_FALSE(summary.contains("result"));

  for (const std::string bad :
       {"?status=done", "?limit=0", "?limit=1001", "?cursor=!!!", "?cursor=YWJj", "?cursor=x",
        "?cursor=OmFiYw", "?cursor=LTE6YQ"}) {
    INFO(bad);
    auto response = client.request("GET", "/admin/runs" + bad);
    CHECK(response.status == 400);
    CHECK(response.json()["error"]["type"] == "invalid_request");
  }
}
