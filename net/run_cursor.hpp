#pragma once
// The opaque cursor of GET /admin/runs: base64url (no padding) of
// "<started_at_ms>:<run_id>" of the last run of a page. The storage pages by
// that key (newest first), so a cursor stays valid while new runs arrive.
#include <optional>
#include <string>
#include <string_view>

#include "persistence/records.hpp"

namespace sluice::net {

std::string encode_run_cursor(const persistence::RunCursor& cursor);
// nullopt for anything encode_run_cursor cannot have produced.
std::optional<persistence::RunCursor> decode_run_cursor(std::string_view text);

}  // namespace sluice::net
