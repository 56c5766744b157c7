// LocalSandbox's file operations, on the host through POSIX calls (so each
// failure keeps its errno, which host_error turns into a clear kind).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/utf8.hpp"
#include "sandbox/host_error.hpp"
#include "sandbox/local_sandbox.hpp"
#include "sandbox/unique_fd.hpp"

namespace sluice::sandbox {
namespace fs = std::filesystem;

std::string LocalSandbox::read(const std::string& path) {
  return to_valid_utf8(read_bytes(path));
}

std::string LocalSandbox::read_bytes(const std::string& path) {
  std::string full = resolve(path).string();
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw host_error(errno, "read", full);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw host_error(errno, "read", full);
  if (S_ISDIR(info.st_mode)) throw host_error(EISDIR, "read", full);
  std::string bytes;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw host_error(errno, "read", full);
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
    // Checked while reading: /proc files and devices report no size.
    if (bytes.size() > max_read_bytes_) {
      throw SandboxError(ErrorKind::kTooLarge, "cannot read " + full + ": it is larger than " +
                                                   std::to_string(max_read_bytes_) + " bytes");
    }
  }
  return bytes;
}

void LocalSandbox::write(const std::string& path, std::string_view bytes) {
  fs::path target = resolve(path, Access::kWrite);
  std::string full = target.string();
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw host_error(ec.value(), "create the folders of", full);
  UniqueFd fd(::open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!fd.valid()) throw host_error(errno, "write", full);
  while (!bytes.empty()) {
    ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw host_error(errno, "write", full);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (::close(fd.release()) != 0)
    throw host_error(errno, "write", full);  // a full disk may show only here
}

FileStat LocalSandbox::stat(const std::string& path) {
  std::string full = resolve(path).string();
  struct stat info {};
  if (::stat(full.c_str(), &info) != 0) throw host_error(errno, "stat", full);
  FileStat result;
  result.size = static_cast<uint64_t>(info.st_size);
  result.is_dir = S_ISDIR(info.st_mode);
  auto since_epoch =
      std::chrono::seconds(info.st_mtim.tv_sec) + std::chrono::nanoseconds(info.st_mtim.tv_nsec);
  result.mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
  return result;
}

std::vector<DirEntry> LocalSandbox::readdir(const std::string& path) {
  std::string full = resolve(path).string();
  std::error_code ec;
  fs::directory_iterator it(full, ec);
  if (ec) throw host_error(ec.value(), "list", full);
  std::vector<DirEntry> entries;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;  // a dangling link is listed as a file
    entries.push_back({it->path().filename().string(), it->is_directory(type_ec)});
  }
  if (ec) throw host_error(ec.value(), "list", full);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

bool LocalSandbox::exists(const std::string& path) {
  std::string full = resolve(path).string();
  struct stat info {};
  if (::stat(full.c_str(), &info) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw host_error(errno, "look up", full);
}

void LocalSandbox::mkdir(const std::string& path) {
  std::string full = resolve(path, Access::kWrite).string();
  struct stat info {};
  if (::stat(full.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) {
    throw host_error(EEXIST, "create the folder", full);
  }
  std::error_code ec;
  fs::create_directories(full, ec);
  if (ec) throw host_error(ec.value(), "create the folder", full);
}

void LocalSandbox::rm(const std::string& path, bool recursive) {
  std::string full = resolve(path, Access::kWrite).string();
  struct stat info {};
  if (::lstat(full.c_str(), &info) != 0) throw host_error(errno, "remove", full);
  if (!recursive) {
    if (::remove(full.c_str()) == 0) return;
    if (errno == ENOTEMPTY || errno == EEXIST) {
      throw SandboxError(
          ErrorKind::kNotEmpty,
          "cannot remove " + full + ": the folder is not empty (remove it recursively)");
    }
    throw host_error(errno, "remove", full);
  }
  std::error_code ec;
  fs::remove_all(full, ec);
  if (ec) throw host_error(ec.value(), "remove", full);
}

}  // namespace sluice::sandbox
