#pragma once
// Text shown to a model, and carried in JSON, must be valid UTF-8 (nlohmann
// refuses to serialize anything else), while files and command output are
// arbitrary bytes.
#include <string>
#include <string_view>

namespace sluice::sandbox {

// The bytes with every invalid UTF-8 sequence (stray bytes, overlong forms,
// surrogates, code points past U+10FFFF, a sequence cut at the end) replaced
// by U+FFFD. Valid input comes back unchanged.
std::string to_valid_utf8(std::string_view bytes);

// The text cut to at most max_bytes, never inside a UTF-8 character.
std::string_view cut_utf8(std::string_view text, size_t max_bytes);

}  // namespace sluice::sandbox
