#pragma once
// A fresh directory under the system temporary directory, removed with
// everything in it when the TempDir goes away, unless the environment variable
// SLUICE_KEEP_TEST_DIRS is set (then its path is printed to stderr, so a failed
// test's files can be inspected).
#include <filesystem>
#include <string>

namespace sluice::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sluice-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, for brevity at call sites.
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  void remove();
  std::filesystem::path path_;
};

}  // namespace sluice::test
