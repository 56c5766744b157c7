#include "persistence/records.hpp"

#include <catch2/catch.hpp>

namespace sluice::persistence {
namespace {

TEST_CASE("submission states print and parse", "[records]") {
  using S = SubmissionState;
  for (S state : {S::queued, S::running, S::completed, S::failed, S::aborted}) {
    CHECK(parse_submission_state(to_string(state)) == state);
  }
  CHECK(std::string(to_string(S::running)) == "running");
  CHECK_FALSE(parse_submission_state("Running").has_value());
  CHECK_FALSE(parse_submission_state("").has_value());
  CHECK(is_terminal(S::aborted));
  CHECK_FALSE(is_terminal(S::running));
}

TEST_CASE("submission kinds and entry statuses print and parse", "[records]") {
  CHECK(std::string(to_string(SubmissionKind::dispatch)) == "dispatch");
  CHECK(parse_submission_kind("direct") == SubmissionKind::direct);
  CHECK(parse_submission_kind("dispatch") == SubmissionKind::dispatch);
  CHECK_FALSE(parse_submission_kind("prompt").has_value());
  for (EntryStatus status :
       {EntryStatus::complete, EntryStatus::partial, EntryStatus::interrupted}) {
    CHECK(parse_entry_status(to_string(status)) == status);
  }
  CHECK(std::string(to_string(EntryStatus::interrupted)) == "interrupted");
  CHECK_FALSE(parse_entry_status("done").has_value());
}

}  // namespace
}  // namespace sluice::persistence
