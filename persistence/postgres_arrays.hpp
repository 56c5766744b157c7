#pragma once
// Postgres array literals ('{"a","b",NULL}'). A batch hands many rows to one
// statement as one array parameter per column, which the statement unnests:
// libpqxx 6 sends parameters as text and has no array conversion of its own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::persistence::postgres {

class ArrayLiteral {
 public:
  // Distinct names rather than overloads: a string literal would otherwise pick
  // the bool overload.
  void text(std::string_view value);   // quoted, '"' and '\' escaped
  void bytes(std::string_view value);  // bytea's hex input form, quoted
  void number(int64_t value);
  void boolean(bool value);
  void null();

  template <class T>
  void optional_number(const std::optional<T>& value) {
    value ? number(static_cast<int64_t>(*value)) : null();
  }
  void optional_boolean(const std::optional<bool>& value) { value ? boolean(*value) : null(); }
  void optional_text(const std::optional<std::string>& value) { value ? text(*value) : null(); }

  // The literal of everything added so far.
  std::string finish() const { return "{" + elements_ + "}"; }

 private:
  void separate();

  std::string elements_;
};

}  // namespace sluice::persistence::postgres
