#include "net/submission_channels.hpp"

#include <atomic>
#include <mutex>

#include "actors/outcomes.hpp"
#include "net/record_json.hpp"
#include "net/responses.hpp"

namespace sluice::net {
namespace {

using persistence::SubmissionRecord;
using persistence::SubmissionState;

constexpr const char* kSubmissionHeader = "X-Sluice-Submission-Id";

PublicError dropped_error() {
  return make_error("unavailable", "The session's owner stopped before answering.",
                    "Retry, or look the submission up by its id.");
}

using actors::outcome_error;

class PromptChannel : public actors::SubmissionObserver {
 public:
  PromptChannel(std::shared_ptr<Responder> responder, PromptMode mode)
      : responder_(std::move(responder)), mode_(mode) {}

  ~PromptChannel() override {
    if (!finished_) fail(dropped_error());
  }

  void on_admitted(const SubmissionRecord& record, bool) override {
    std::lock_guard lock(mutex_);
    submission_id_ = record.id;
    instance_id_ = record.key.instance;
    if (mode_ == PromptMode::stream) {
      responder_->open_stream({{kSubmissionHeader, record.id}});
      streaming_ = true;
    }
  }

  void on_rejected(const PublicError& error) override {
    std::lock_guard lock(mutex_);
    fail(error);
  }

  void on_event(const nlohmann::json& event) override {
    std::lock_guard lock(mutex_);
    if (!streaming_ || finished_) return;
    write_event(event.value("type", "event"), event);
  }

  void on_settled(const SubmissionRecord& record) override {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (mode_ == PromptMode::sync) {
      if (record.state == SubmissionState::completed) {
        responder_->respond(json_response(200, {{"result", result_value(record)}},
                                          {{kSubmissionHeader, record.id}}));
      } else {
        responder_->respond(
            error_response(outcome_error(record), {{kSubmissionHeader, record.id}}));
      }
      return;
    }
    // The result has already gone out on the `operation` event; a completed
    // prompt ends with `idle`, a failed or aborted one with one error frame.
    if (record.state == SubmissionState::completed) {
      write_event("idle", {{"type", "idle"},
                           {"instanceId", record.key.instance},
                           {"session", record.key.session},
                           {"submissionId", record.id}});
    } else {
      write_error_frame(outcome_error(record));
    }
    responder_->close_stream();
  }

  bool wants_outcome() const override { return true; }
  bool wants_events() const override { return mode_ == PromptMode::stream; }

 private:
  void write_event(const std::string& type, nlohmann::json event) {
    event["eventIndex"] = next_index_;
    responder_->stream_write(sse_frame(type, next_index_, event));
    ++next_index_;
  }

  void write_error_frame(const PublicError& error) {
    nlohmann::json data = {
        {"type", "error"}, {"instanceId", instance_id_}, {"error", error.to_json()}};
    responder_->stream_write(sse_frame("error", next_index_++, data));
  }

  // Called with the mutex held (or from the destructor).
  void fail(PublicError error) {
    if (finished_) return;
    finished_ = true;
    if (!submission_id_.empty()) {
      if (!error.meta.is_object()) error.meta = nlohmann::json::object();
      error.meta["submissionId"] = submission_id_;
    }
    if (streaming_) {
      write_error_frame(error);
      responder_->close_stream();
    } else {
      Headers headers;
      if (!submission_id_.empty()) headers.emplace_back(kSubmissionHeader, submission_id_);
      responder_->respond(error_response(error, std::move(headers)));
    }
  }

  std::shared_ptr<Responder> responder_;
  PromptMode mode_;
  std::mutex mutex_;
  bool streaming_ = false;
  bool finished_ = false;
  int64_t next_index_ = 0;
  std::string submission_id_;
  std::string instance_id_;
};

// Answers its request once; a request dropped unanswered (its actor went
// away) answers 503.
class OneAnswer {
 protected:
  explicit OneAnswer(std::shared_ptr<Responder> responder) : responder_(std::move(responder)) {}
  ~OneAnswer() { answer(error_response(dropped_error())); }
  void answer(HttpResponse response) {
    if (!answered_.exchange(true)) responder_->respond(std::move(response));
  }

 private:
  std::shared_ptr<Responder> responder_;
  std::atomic<bool> answered_{false};
};

class DispatchChannel : public actors::SubmissionObserver, private OneAnswer {
 public:
  explicit DispatchChannel(std::shared_ptr<Responder> responder) : OneAnswer(std::move(responder)) {}

  void on_admitted(const SubmissionRecord& record, bool) override {
    answer(json_response(202, dispatch_receipt_json(record), {{kSubmissionHeader, record.id}}));
  }
  void on_rejected(const PublicError& error) override { answer(error_response(error)); }
  void on_event(const nlohmann::json&) override {}
  void on_settled(const SubmissionRecord&) override {}
  bool wants_outcome() const override { return false; }
  bool wants_events() const override { return false; }
};

class AbortChannel : public actors::AbortObserver, private OneAnswer {
 public:
  explicit AbortChannel(std::shared_ptr<Responder> responder) : OneAnswer(std::move(responder)) {}
  void on_aborted(const std::vector<std::string>& ids) override {
    answer(json_response(202, {{"aborted", ids}}));
  }
  void on_failed(const PublicError& error) override { answer(error_response(error)); }
};

class DeleteChannel : public actors::DeleteObserver, private OneAnswer {
 public:
  explicit DeleteChannel(std::shared_ptr<Responder> responder) : OneAnswer(std::move(responder)) {}
  void on_deleted() override { answer(json_response(202, {{"deleted", true}})); }
  void on_failed(const PublicError& error) override { answer(error_response(error)); }
};

}  // namespace

std::shared_ptr<actors::SubmissionObserver> make_prompt_channel(
    std::shared_ptr<Responder> responder, PromptMode mode) {
  return std::make_shared<PromptChannel>(std::move(responder), mode);
}

std::shared_ptr<actors::SubmissionObserver> make_dispatch_channel(
    std::shared_ptr<Responder> responder) {
  return std::make_shared<DispatchChannel>(std::move(responder));
}

std::shared_ptr<actors::AbortObserver> make_abort_channel(std::shared_ptr<Responder> responder) {
  return std::make_shared<AbortChannel>(std::move(responder));
}

std::shared_ptr<actors::DeleteObserver> make_delete_channel(std::shared_ptr<Responder> responder) {
  return std::make_shared<DeleteChannel>(std::move(responder));
}

}  // namespace sluice::net
