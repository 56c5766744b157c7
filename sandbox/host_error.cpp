#include "sandbox/host_error.hpp"

#include <cerrno>
#include <cstring>

namespace sluice::sandbox {
namespace {

ErrorKind kind_of(int error_number) {
  switch (error_number) {
    case ENOENT:
      return ErrorKind::kNotFound;
    case ENOTDIR:
      return ErrorKind::kNotADirectory;
    case EISDIR:
      return ErrorKind::kIsADirectory;
    case EEXIST:
      return ErrorKind::kAlreadyExists;
    case ENOTEMPTY:
      return ErrorKind::kNotEmpty;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorKind::kPermissionDenied;
    case EFBIG:
      return ErrorKind::kTooLarge;
    default:
      return ErrorKind::kIo;
  }
}

}  // namespace

SandboxError host_error(int error_number, std::string_view action, const std::string& path) {
  return SandboxError(kind_of(error_number), "cannot " + std::string(action) + " " + path + ": " +
                                                 std::strerror(error_number));
}

}  // namespace sluice::sandbox
