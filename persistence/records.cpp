#include "persistence/records.hpp"

#include <array>
#include <utility>

namespace sluice::persistence {
namespace {

// One table per enum keeps to_string and parse from drifting apart.
constexpr std::array<std::pair<SubmissionState, const char*>, 5> kStates{{
    {SubmissionState::queued, "queued"},
    {SubmissionState::running, "running"},
    {SubmissionState::completed, "completed"},
    {SubmissionState::failed, "failed"},
    {SubmissionState::aborted, "aborted"},
}};
constexpr std::array<std::pair<SubmissionKind, const char*>, 2> kKinds{{
    {SubmissionKind::direct, "direct"},
    {SubmissionKind::dispatch, "dispatch"},
}};
constexpr std::array<std::pair<EntryStatus, const char*>, 3> kStatuses{{
    {EntryStatus::complete, "complete"},
    {EntryStatus::partial, "partial"},
    {EntryStatus::interrupted, "interrupted"},
}};
constexpr std::array<std::pair<RunStatus, const char*>, 3> kRunStatuses{{
    {RunStatus::active, "active"},
    {RunStatus::completed, "completed"},
    {RunStatus::errored, "errored"},
}};

template <class Enum, size_t N>
const char* name_of(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) return name;
  }
  return "unknown";
}

template <class Enum, size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, const char*>, N>& table,
                             const std::string& text) {
  for (const auto& [value, name] : table) {
    if (text == name) return value;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(SubmissionState state) {
  return name_of(kStates, state);
}
const char* to_string(SubmissionKind kind) {
  return name_of(kKinds, kind);
}
const char* to_string(EntryStatus status) {
  return name_of(kStatuses, status);
}
const char* to_string(RunStatus status) {
  return name_of(kRunStatuses, status);
}

std::optional<SubmissionState> parse_submission_state(const std::string& text) {
  return value_of(kStates, text);
}
std::optional<SubmissionKind> parse_submission_kind(const std::string& text) {
  return value_of(kKinds, text);
}
std::optional<EntryStatus> parse_entry_status(const std::string& text) {
  return value_of(kStatuses, text);
}
std::optional<RunStatus> parse_run_status(const std::string& text) {
  return value_of(kRunStatuses, text);
}

}  // namespace sluice::persistence
