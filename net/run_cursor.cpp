#include "net/run_cursor.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace sluice::net {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    value[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  }
  // A length of 1 (mod 4) cannot come from whole bytes.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, so each cursor has exactly one spelling.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string encode_run_cursor(const persistence::RunCursor& cursor) {
  return base64url_encode(std::to_string(cursor.started_at_ms) + ":" + cursor.run_id);
}

std::optional<persistence::RunCursor> decode_run_cursor(std::string_view text) {
  auto decoded = base64url_decode(text);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == decoded->size()) {
    return std::nullopt;
  }
  persistence::RunCursor cursor;
  const char* first = decoded->data();
  auto [end, ec] = std::from_chars(first, first + colon, cursor.started_at_ms);
  if (ec != std::errc() || end != first + colon || cursor.started_at_ms < 0) return std::nullopt;
  cursor.run_id = decoded->substr(colon + 1);
  return cursor;
}

}  // namespace sluice::net
