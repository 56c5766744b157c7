#include "persistence/postgres_arrays.hpp"

namespace sluice::persistence::postgres {

void ArrayLiteral::separate() {
  if (!elements_.empty()) elements_ += ',';
}

void ArrayLiteral::text(std::string_view value) {
  separate();
  elements_ += '"';
  for (const char c : value) {
    if (c == '"' || c == '\\') elements_ += '\\';
    elements_ += c;
  }
  elements_ += '"';
}

void ArrayLiteral::bytes(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  separate();
  // The element is bytea's text input "\x0a1b..."; the array syntax doubles its backslash.
  elements_ += "\"\\\\x";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    elements_ += kHex[byte >> 4];
    elements_ += kHex[byte & 0x0f];
  }
  elements_ += '"';
}

void ArrayLiteral::number(int64_t value) {
  separate();
  elements_ += std::to_string(value);
}

void ArrayLiteral::boolean(bool value) {
  separate();
  elements_ += value ? 't' : 'f';
}

void ArrayLiteral::null() {
  separate();
  elements_ += "NULL";
}

}  // namespace sluice::persistence::postgres
