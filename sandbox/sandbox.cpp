#include "sandbox/sandbox.hpp"

#include <array>
#include <utility>

namespace sluice::sandbox {
namespace {

constexpr std::array<std::pair<ErrorKind, std::string_view>, 11> kNames{{
    {ErrorKind::kNotFound, "not_found"},
    {ErrorKind::kAlreadyExists, "already_exists"},
    {ErrorKind::kNotADirectory, "not_a_directory"},
    {ErrorKind::kIsADirectory, "is_a_directory"},
    {ErrorKind::kNotEmpty, "not_empty"},
    {ErrorKind::kPermissionDenied, "permission_denied"},
    {ErrorKind::kInvalidArgument, "invalid_argument"},
    {ErrorKind::kTooLarge, "too_large"},
    {ErrorKind::kNoSandbox, "no_sandbox"},
    {ErrorKind::kUnavailable, "unavailable"},
    {ErrorKind::kIo, "io_error"},
}};

}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "io_error";
}

std::optional<ErrorKind> error_kind_from_name(std::string_view name) {
  for (const auto& [kind, n] : kNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

}  // namespace sluice::sandbox
