#pragma once
// GET /runs/:runId/stream: follows one run from the store. Every event is
// persisted before anyone hears of it, so a stream that only ever reads
// "events after the last one I sent" (one read at a time) can neither skip nor
// repeat an index. Reads are triggered by the RunHub (runs owned by this node)
// and by a poll every interval (runs owned or ended by another node).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_types.hpp"
#include "persistence/executor.hpp"
#include "workflows/run_hub.hpp"

namespace sluice::net {

class RunStream;

// Owns the poll thread and the open streams. Destroy it before the storage
// executor and the hub it was given.
class RunStreams {
 public:
  RunStreams(persistence::StorageExecutor& storage, workflows::RunHub* hub,
             std::chrono::milliseconds poll_interval);
  ~RunStreams();
  RunStreams(const RunStreams&) = delete;
  RunStreams& operator=(const RunStreams&) = delete;

  // Streams the run's events with an index above `after`. Answers 404
  // run_not_found (or 503) itself when the first read finds no run; otherwise
  // opens the SSE and closes it after run_end.
  void start(const std::string& run_id, int64_t after, std::shared_ptr<Responder> responder);

 private:
  void poll_loop();

  persistence::StorageExecutor& storage_;
  workflows::RunHub* hub_;
  std::chrono::milliseconds poll_interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<RunStream>> streams_;
  std::thread poller_;
};

}  // namespace sluice::net
