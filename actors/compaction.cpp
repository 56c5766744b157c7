#include "actors/compaction.hpp"

#include <nlohmann/json.hpp>

#include "actors/outcomes.hpp"

namespace sluice::actors {
namespace {

using persistence::HistoryEntry;

constexpr const char* kCompaction = "compaction";

constexpr const char* kSummaryInstructions =
    "The conversation below no longer fits in your context window. Summarise it so that the "
    "conversation can go on from your summary alone: keep every fact, decision, file name, "
    "command, tool result and open task that may matter later, and the user's goals in their "
    "own words where it helps. Answer with the summary only.";

const HistoryEntry* latest_compaction(const std::vector<HistoryEntry>& history, size_t end) {
  for (size_t i = end; i-- > 0;) {
    if (history[i].type == kCompaction) return &history[i];
  }
  return nullptr;
}

std::string transcript_line(const harness::ConversationItem& item) {
  if (item.type == "tool_call") return "[tool call " + item.tool_name + "] " + item.args_json;
  if (item.type == "tool_result") {
    return "[tool result " + item.tool_name + (item.is_error ? ", failed" : "") + "] " +
           item.result_json;
  }
  return "[" + item.type + "] " + item.text;
}

}  // namespace

std::vector<harness::ConversationItem> model_conversation(const std::vector<HistoryEntry>& history,
                                                          size_t end) {
  std::vector<harness::ConversationItem> items;
  int64_t after = 0;
  if (const HistoryEntry* summary = latest_compaction(history, end)) {
    after = compacted_through(*summary);
    harness::ConversationItem item;
    item.type = "user";
    item.text = "[Summary of the earlier conversation]\n" + summary->text;
    items.push_back(std::move(item));
  }
  items.reserve(items.size() + end);
  for (size_t i = 0; i < end; ++i) {
    const HistoryEntry& entry = history[i];
    if (entry.position <= after || entry.type == kCompaction) continue;
    items.push_back(conversation_item(entry));
  }
  return items;
}

std::optional<size_t> compaction_cut(const std::vector<HistoryEntry>& history,
                                     const std::string& running_submission_id) {
  const HistoryEntry* summary = latest_compaction(history, history.size());
  const int64_t covered = summary ? compacted_through(*summary) : 0;
  size_t first_running = history.size();
  size_t last_round = history.size();
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i].submission_id != running_submission_id) continue;
    if (first_running == history.size()) first_running = i;
    // A tool round starts with the assistant entry its calls follow.
    if (history[i].type == "assistant" && i + 1 < history.size() &&
        history[i + 1].type == "tool_call") {
      last_round = i;
    }
  }
  // Worth a summary: at least two entries the latest summary does not cover.
  const auto summarisable = [&](size_t cut) {
    int fresh = 0;
    for (size_t i = 0; i < cut; ++i) {
      if (history[i].position > covered && history[i].type != kCompaction) ++fresh;
    }
    return fresh >= 2;
  };
  if (summarisable(first_running)) return first_running;
  if (last_round < history.size() && summarisable(last_round)) return last_round;
  return std::nullopt;
}

int64_t estimated_tokens(const std::vector<harness::ConversationItem>& conversation) {
  size_t characters = 0;
  for (const auto& item : conversation) {
    characters += item.text.size() + item.args_json.size() + item.result_json.size();
  }
  return static_cast<int64_t>((characters + 3) / 4);
}

harness::TurnRequest summary_request(const std::vector<HistoryEntry>& history, size_t cut) {
  harness::TurnRequest request;
  request.purpose = harness::TurnPurpose::summary;
  request.instructions = kSummaryInstructions;
  std::string transcript;
  for (const auto& item : model_conversation(history, cut)) {
    transcript += transcript_line(item);
    transcript += "\n\n";
  }
  harness::ConversationItem only;
  only.type = "user";
  only.text = std::move(transcript);
  request.conversation.push_back(std::move(only));
  return request;
}

HistoryEntry compaction_entry(const persistence::SubmissionRecord& record, std::string summary,
                              int64_t through, int64_t now_ms) {
  HistoryEntry entry = entry_of(record, kCompaction, std::move(summary), now_ms);
  entry.args_json = nlohmann::json{{"through", through}}.dump();
  return entry;
}

int64_t compacted_through(const HistoryEntry& compaction) {
  const auto args = nlohmann::json::parse(compaction.args_json, nullptr, false);
  return args.is_object() ? args.value("through", int64_t{0}) : 0;
}

}  // namespace sluice::actors
