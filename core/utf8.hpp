#pragma once
// UTF-8 for text that crosses a boundary. Identifiers must be valid UTF-8
// without NUL before anything reaches storage (PostgreSQL text refuses
// anything else, SQLite would store it), the same way for every backend.
// Text shown to a model or carried in JSON must be valid UTF-8 (nlohmann
// refuses to serialize anything else), while files and command output are
// arbitrary bytes, so those are repaired and cut on character boundaries.
#include <string>
#include <string_view>

namespace sluice {

// Well-formed UTF-8 (the table of the Unicode standard, section 3.9: no stray
// or overlong bytes, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Valid UTF-8 with no NUL character: what an identifier may hold.
inline bool is_identifier_text(std::string_view text) {
  return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

// The bytes with every invalid UTF-8 sequence (stray bytes, overlong forms,
// surrogates, code points past U+10FFFF, a sequence cut at the end) replaced
// by U+FFFD. Valid input comes back unchanged.
std::string to_valid_utf8(std::string_view bytes);

// The text cut to at most max_bytes, never inside a UTF-8 character.
std::string_view cut_utf8(std::string_view text, size_t max_bytes);

}  // namespace sluice
