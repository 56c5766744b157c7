#pragma once
// Standard base64 (RFC 4648, with padding) for file bytes in the remote
// sandbox protocol, whose JSON can only carry text.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::sandbox {

std::string base64_encode(std::string_view bytes);
// The decoded bytes, or nullopt when the text is not padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sluice::sandbox
