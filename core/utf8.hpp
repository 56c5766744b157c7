#pragma once
// UTF-8 checks for text that becomes an identifier: PostgreSQL text must be
// valid UTF-8 without NUL, and SQLite would store anything, so both are
// checked before anything reaches storage, the same way for every backend.
#include <string_view>

namespace sluice {

// Well-formed UTF-8 (the table of the Unicode standard, section 3.9: no stray
// or overlong bytes, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Valid UTF-8 with no NUL character: what an identifier may hold.
inline bool is_identifier_text(std::string_view text) {
  return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

}  // namespace sluice
