#include "net/run_stream.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "net/responses.hpp"
#include "workflows/run_json.hpp"

namespace sluice::net {
namespace {

using persistence::RunRecord;
using persistence::StorageError;
using persistence::StorageResult;
using persistence::StoredRunEvent;

// Events per storage read; a longer backlog is read page after page.
constexpr int kPageSize = 500;

struct RunPage {
  // Read before the events: when it has ended by then, its last events were
  // committed with its ending, so a page that is not full holds all the rest.
  std::optional<RunRecord> run;
  std::vector<StoredRunEvent> events;
};

}  // namespace

class RunStream : public std::enable_shared_from_this<RunStream> {
 public:
  RunStream(persistence::StorageExecutor& storage, std::string run_id, int64_t after,
            std::shared_ptr<Responder> responder)
      : storage_(storage),
        run_id_(std::move(run_id)),
        responder_(std::move(responder)),
        last_sent_(after) {}

  void keep_subscription(std::shared_ptr<void> subscription) {
    std::lock_guard lock(mutex_);
    if (!finished_) subscription_ = std::move(subscription);
  }

  // Reads what follows the last event sent; while a read is in flight, only
  // notes that another one must follow it.
  void read() {
    int64_t after = 0;
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      if (reading_) {
        again_ = true;
        return;
      }
      after = begin_read_locked();
    }
    submit(after);
  }

  // The hub's news: read only when it is news to this stream.
  void announced(int64_t last_index, bool ended) {
    {
      std::lock_guard lock(mutex_);
      if (last_index <= last_sent_ && !ended) return;
    }
    read();
  }

  // From the poll thread: false once the stream is over (or its client left,
  // which ends it here).
  bool still_open() {
    std::shared_ptr<void> dropped;
    std::lock_guard lock(mutex_);
    if (!finished_ && responder_->client_gone()) dropped = finish_locked();
    return !finished_;
  }

  // The server is going away: stop following without another word.
  void abandon() {
    std::shared_ptr<void> dropped;
    std::lock_guard lock(mutex_);
    dropped = finish_locked();
  }

 private:
  int64_t begin_read_locked() {
    reading_ = true;
    again_ = false;
    return last_sent_;
  }

  // Outside mutex_: a stopped executor calls the completion at once.
  void submit(int64_t after) {
    storage_.submit<RunPage>(
        [run_id = run_id_, after](persistence::Transaction& txn) {
          RunPage page;
          page.run = txn.get_run(run_id);
          if (page.run) page.events = txn.read_run_events(run_id, after, kPageSize, {});
          return page;
        },
        [self = shared_from_this()](StorageResult<RunPage> result) {
          self->deliver(std::move(result));
        });
  }

  void deliver(StorageResult<RunPage> result) {
    std::shared_ptr<void> dropped;  // released after the lock
    int64_t next_after = 0;
    bool next = false;
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      if (finished_) return;
      if (std::holds_alternative<StorageError>(result)) {
        fail(make_error("unavailable", "Storage is unavailable.",
                        "Reconnect with Last-Event-ID to resume."));
        dropped = finish_locked();
      } else if (const RunPage& page = std::get<RunPage>(result); !page.run) {
        // Gone mid-stream only when retention removed it.
        fail(make_error("run_not_found", "No run '" + run_id_ + "'."));
        dropped = finish_locked();
      } else if (write_page(page)) {
        responder_->close_stream();
        dropped = finish_locked();
      } else if (static_cast<int>(page.events.size()) == kPageSize || again_) {
        next = true;
        next_after = begin_read_locked();
      }
    }
    if (next) submit(next_after);
  }

  // True when the run's end has been sent.
  bool write_page(const RunPage& page) {
    if (!opened_) {
      responder_->open_stream({});
      opened_ = true;
    }
    for (const StoredRunEvent& event : page.events) {
      // The store returns only later indexes; this keeps "never twice" local.
      if (event.event_index <= last_sent_) continue;
      responder_->stream_write(
          sse_frame(event.type, event.event_index, workflows::run_event_json(event)));
      last_sent_ = event.event_index;
      if (event.type == "run_end") return true;
    }
    // An ended run without a run_end event (defensive): nothing more will come.
    return page.run->status != persistence::RunStatus::active &&
           static_cast<int>(page.events.size()) < kPageSize;
  }

  void fail(const PublicError& error) {
    if (!opened_) {
      responder_->respond(error_response(error));
      return;
    }
    // The id is the last event sent, so a client resuming from it loses nothing.
    responder_->stream_write(sse_frame("error", last_sent_, {{"error", error.to_json()}}));
    responder_->close_stream();
  }

  std::shared_ptr<void> finish_locked() {
    finished_ = true;
    return std::move(subscription_);
  }

  persistence::StorageExecutor& storage_;
  const std::string run_id_;
  const std::shared_ptr<Responder> responder_;
  std::mutex mutex_;
  int64_t last_sent_;
  bool opened_ = false;
  bool reading_ = false;
  bool again_ = false;
  bool finished_ = false;
  std::shared_ptr<void> subscription_;  // the hub's; dropped when finished
};

RunStreams::RunStreams(persistence::StorageExecutor& storage, workflows::RunHub* hub,
                       std::chrono::milliseconds poll_interval)
    : storage_(storage), hub_(hub), poll_interval_(poll_interval) {
  poller_ = std::thread([this] { poll_loop(); });
}

RunStreams::~RunStreams() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  poller_.join();
  for (const auto& stream : streams_) stream->abandon();
}

void RunStreams::start(const std::string& run_id, int64_t after,
                       std::shared_ptr<Responder> responder) {
  auto stream = std::make_shared<RunStream>(storage_, run_id, after, std::move(responder));
  // Subscribed before the first read: whatever becomes durable after that
  // read began is announced, so nothing falls between the two.
  if (hub_) {
    stream->keep_subscription(hub_->subscribe(
        run_id, [weak = std::weak_ptr<RunStream>(stream)](int64_t last_index, bool ended) {
          if (auto alive = weak.lock()) alive->announced(last_index, ended);
        }));
  }
  {
    std::lock_guard lock(mutex_);
    streams_.push_back(stream);
  }
  stream->read();
}

void RunStreams::poll_loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, poll_interval_, [this] { return stopping_; })) {
    std::vector<std::shared_ptr<RunStream>> streams = streams_;
    lock.unlock();
    std::vector<RunStream*> over;
    for (const auto& stream : streams) {
      if (stream->still_open()) {
        stream->read();
      } else {
        over.push_back(stream.get());
      }
    }
    lock.lock();
    std::erase_if(streams_, [&over](const std::shared_ptr<RunStream>& stream) {
      return std::find(over.begin(), over.end(), stream.get()) != over.end();
    });
  }
}

}  // namespace sluice::net
