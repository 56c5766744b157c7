// Durable admission against the HTTP ceiling, on one sluice server with file
// SQLite (WAL, synchronous=FULL) and the echo agent answering at once:
//  (a) the ceiling: GET /healthz over keep-alive connections;
//  (b) admission: POST /agents/echo/bench/dispatch over as many connections,
//      spread over --sessions sessions of that one instance (body
//      {"input":"m{n}","session":"s{session}"}), so the sessions work at the
//      same time as admissions arrive.
// Then it waits until every admitted dispatch settled (sluice_queue_depth 0),
// checks the completed settlements against the 202 answers, and reports the
// drain time. --ceiling-seconds=0 skips (a), e.g. to profile (b) alone.
//
//   admission_bench [--connections=32] [--seconds=5] [--ceiling-seconds=5] [--sessions=1000]
#include "bench/bench_support.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  bench::Options options(argc, argv,
                         "usage: admission_bench [--connections=32] [--seconds=5] "
                         "[--ceiling-seconds=5] [--sessions=1000]\n");
  const std::string connections = std::to_string(options.integer("connections", 32));
  const int64_t dispatch_seconds = options.integer("seconds", 5);
  const std::string seconds = std::to_string(dispatch_seconds);
  const std::string ceiling_seconds =
      std::to_string(options.integer("ceiling-seconds", dispatch_seconds));
  const std::string sessions = std::to_string(options.integer("sessions", 1000));
  options.done();

  bench::print_fdatasync();
  bench::Server server({.file_db = true, .env = {}});
  std::printf("admission_bench: file SQLite, %s connections, %s s + %s s, %s sessions\n",
              connections.c_str(), ceiling_seconds.c_str(), seconds.c_str(), sessions.c_str());

  std::optional<bench::LoadResult> ceiling;
  if (ceiling_seconds != "0") {
    ceiling = bench::run_http_load(server.port(), {"--path", "/healthz", "--connections",
                                                   connections, "--duration-s", ceiling_seconds});
    bench::print_load("(a) GET /healthz", *ceiling);
  }

  const bench::LoadResult admission = bench::run_http_load(
      server.port(), {"--method", "POST", "--path-template", "/agents/echo/bench/dispatch",
                      "--body-template", R"({"input":"m{n}","session":"s{session}"})", "--sessions",
                      sessions, "--connections", connections, "--duration-s", seconds});
  const auto load_end = bench::Clock::now();
  bench::print_load("(b) POST dispatch", admission);
  if (ceiling) {
    std::printf("%-28s %.1f%% of the /healthz ceiling\n", "", 100.0 * admission.rps / ceiling->rps);
  }

  const double queued_at_end = server.metric("sluice_queue_depth");
  const bool drained =
      bench::wait_until([&] { return server.metric("sluice_queue_depth") == 0; }, 300s);
  const double drain_s = bench::seconds_since(load_end);
  const auto admitted = static_cast<double>(admission.status(202));
  const double completed = server.metric("sluice_settlements_total{outcome=\"completed\"}");
  std::printf("%-28s %.0f unsettled when the load stopped, %s after %.2f s\n", "drain",
              queued_at_end, drained ? "all settled" : "NOT drained", drain_s);
  std::printf("%-28s %.0f admitted (202), %.0f settled completed: %s\n", "", admitted, completed,
              completed == admitted ? "every admitted dispatch settled" : "MISMATCH");
  std::printf("%-28s %.0f dispatches/s from the first admission to the last settlement\n", "",
              admitted / (admission.seconds + drain_s));
  server.stop();
  return drained && completed == admitted ? 0 : 1;
}
