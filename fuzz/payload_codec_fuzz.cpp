// Fuzz target: a stored payload (a submission's input, a history entry's
// content), the msgpack bytes read back from SQLite or PostgreSQL.
//
// Mirrors persistence/payload_codec.cpp decode_submission_input and
// decode_entry_content, as persistence/sqlite_rows.cpp and postgres_rows.cpp
// call them on every row they read. Their contract is "throws PayloadError for
// a payload that cannot be read" (msgpack-cxx's own exceptions are turned into
// it); that is all that is caught. The storage executor would turn any other
// exception into a failed storage job, so another type escaping is a finding.
//
// Checks: whatever decodes re-encodes (encode_submission_input,
// encode_entry_content) to bytes that decode to the same fields.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "persistence/payload_codec.hpp"

namespace {

using namespace sluice;
using persistence::HistoryEntry;

bool same_content(const HistoryEntry& a, const HistoryEntry& b) {
  return a.text == b.text && a.tool_name == b.tool_name && a.tool_call_id == b.tool_call_id &&
         a.args_json == b.args_json && a.result_json == b.result_json && a.is_error == b.is_error;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string encoded;

  std::optional<std::string> text;
  try {
    text = persistence::decode_submission_input(bytes);
  } catch (const persistence::PayloadError&) {
  }
  if (text) {  // outside the try: our own encoding must always decode
    persistence::encode_submission_input(*text, encoded);
    if (persistence::decode_submission_input(encoded) != *text) {
      fuzz::finding("a submission input does not survive encode(decode(bytes))", bytes);
    }
  }

  HistoryEntry entry;
  entry.text = "left over from the previous row";  // the decoder must clear it
  entry.is_error = true;
  bool decoded = false;
  try {
    persistence::decode_entry_content(bytes, entry);
    decoded = true;
  } catch (const persistence::PayloadError&) {
  }
  if (decoded) {
    persistence::encode_entry_content(entry, encoded);
    HistoryEntry again;
    persistence::decode_entry_content(encoded, again);
    if (!same_content(entry, again)) {
      fuzz::finding("a history entry does not survive encode(decode(bytes))", bytes);
    }
  }
  return 0;
}
