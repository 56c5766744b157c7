#pragma once
// Durable payloads (a submission's input, a history entry's content) are stored
// as versioned msgpack maps {"v": 1, ...}. A reader refuses a version newer than
// the one it knows, so an old binary never silently drops what a newer one wrote.
// Keys it does not know within a known version are ignored: a field that older
// readers may safely skip can be added without bumping the version.
#include <string>
#include <string_view>

#include "persistence/records.hpp"
#include "persistence/store.hpp"

namespace sluice::persistence {

inline constexpr int kPayloadVersion = 1;

// A stored payload that cannot be read: corrupt, or written by a newer version.
struct PayloadError : StorageFailure {
  using StorageFailure::StorageFailure;
};

// The encoders overwrite `out`, so a caller can reuse one buffer across rows.
void encode_submission_input(const std::string& input_text, std::string& out);
std::string decode_submission_input(std::string_view bytes);

// Only the content fields: text, tool_name, tool_call_id, args_json, result_json,
// is_error. Empty strings and a false is_error are left out of the map.
void encode_entry_content(const HistoryEntry& entry, std::string& out);
void decode_entry_content(std::string_view bytes, HistoryEntry& entry);

}  // namespace sluice::persistence
