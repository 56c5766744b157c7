// LocalSandbox's file operations on real temporary folders, with every error
// a model can run into.
#include <fcntl.h>
#include <sys/stat.h>

#include "sandbox/local_sandbox.hpp"
#include "tests/sandbox/sandbox_test_support.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using sluice::sandbox::DirEntry;
using sluice::sandbox::ErrorKind;
using sluice::sandbox::LocalSandbox;
using sluice::sandbox::LocalSandboxOptions;
using sluice::sandbox::test::error_of;
using sluice::sandbox::test::read_text;
using sluice::sandbox::test::write_text;
using sluice::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  TempDir dir;
  LocalSandbox sandbox;

  explicit Fixture(uint64_t max_read_bytes = 64 * 1024 * 1024)
      : sandbox([&] {
          LocalSandboxOptions options;
          options.cwd = dir.path();
          options.max_read_bytes = max_read_bytes;
          return options;
        }()) {}
};

}  // namespace

TEST_CASE("write then read, as text and as exact bytes, relative paths against the cwd") {
  Fixture f;
  f.sandbox.write("notes/today.txt", "hello\nworld\n");  // the folder is created
  CHECK(read_text(f.dir / "notes/today.txt") == "hello\nworld\n");
  CHECK(f.sandbox.read("notes/today.txt") == "hello\nworld\n");
  CHECK(f.sandbox.read((f.dir / "notes/today.txt").string()) == "hello\nworld\n");

  const std::string binary(
      "a\0b\xFF\xFE"
      "c",
      6);
  f.sandbox.write("blob.bin", binary);
  CHECK(f.sandbox.read_bytes("blob.bin") == binary);
  CHECK(f.sandbox.read("blob.bin") == std::string("a\0b", 3) +
                                          "\xEF\xBF\xBD\xEF\xBF\xBD"
                                          "c");

  f.sandbox.write("blob.bin", "short");  // replaces, no leftovers
  CHECK(read_text(f.dir / "blob.bin") == "short");
  f.sandbox.write("empty.txt", "");
  CHECK(f.sandbox.read("empty.txt").empty());
}

TEST_CASE("paths are not confined to the working directory (documented)") {
  Fixture f;
  TempDir elsewhere;
  f.sandbox.write((elsewhere / "out.txt").string(), "x");
  CHECK(read_text(elsewhere / "out.txt") == "x");
  fs::create_directories(f.dir / "a");
  f.sandbox.write("a/../b.txt", "y");
  CHECK(read_text(f.dir / "b.txt") == "y");
}

TEST_CASE("read errors name the path and the kind") {
  Fixture f;
  auto missing = error_of([&] { f.sandbox.read("nope.txt"); });
  CHECK(missing.kind() == ErrorKind::kNotFound);
  CHECK_THAT(missing.what(), Catch::Contains((f.dir / "nope.txt").string()));
  CHECK_THAT(missing.what(), Catch::Contains("No such file"));

  fs::create_directories(f.dir / "folder");
  CHECK(error_of([&] { f.sandbox.read("folder"); }).kind() == ErrorKind::kIsADirectory);
  CHECK(error_of([&] { f.sandbox.read_bytes("folder"); }).kind() == ErrorKind::kIsADirectory);
  write_text(f.dir / "file.txt", "x");
  CHECK(error_of([&] { f.sandbox.read("file.txt/inner"); }).kind() == ErrorKind::kNotADirectory);
  CHECK(error_of([&] { f.sandbox.read(""); }).kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("reads past the size limit fail as too_large") {
  Fixture f(10);
  write_text(f.dir / "small.txt", "0123456789");
  write_text(f.dir / "big.txt", "0123456789A");
  CHECK(f.sandbox.read("small.txt") == "0123456789");
  auto error = error_of([&] { f.sandbox.read("big.txt"); });
  CHECK(error.kind() == ErrorKind::kTooLarge);
  CHECK_THAT(error.what(), Catch::Contains("larger than 10 bytes"));
  // Devices report no size; the limit holds while reading.
  CHECK(error_of([&] { f.sandbox.read_bytes("/dev/zero"); }).kind() == ErrorKind::kTooLarge);
}

TEST_CASE("write errors") {
  Fixture f;
  fs::create_directories(f.dir / "folder");
  CHECK(error_of([&] { f.sandbox.write("folder", "x"); }).kind() == ErrorKind::kIsADirectory);
  write_text(f.dir / "file.txt", "x");
  auto under_file = error_of([&] { f.sandbox.write("file.txt/inner.txt", "x"); });
  CHECK(under_file.kind() == ErrorKind::kNotADirectory);
  CHECK_THAT(under_file.what(), Catch::Contains("file.txt"));
}

TEST_CASE("stat reports size, kind and modification time") {
  Fixture f;
  write_text(f.dir / "file.txt", "12345");
  timespec times[2] = {{1'700'000'000, 0}, {1'700'000'000, 123'000'000}};  // atime, mtime
  REQUIRE(::utimensat(AT_FDCWD, (f.dir / "file.txt").c_str(), times, 0) == 0);
  auto stat = f.sandbox.stat("file.txt");
  CHECK(stat.size == 5);
  CHECK_FALSE(stat.is_dir);
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(stat.mtime.time_since_epoch())
            .count() == 1'700'000'000'123);

  fs::create_directories(f.dir / "folder");
  CHECK(f.sandbox.stat("folder").is_dir);
  CHECK(f.sandbox.stat(".").is_dir);
  CHECK(error_of([&] { f.sandbox.stat("nope"); }).kind() == ErrorKind::kNotFound);
}

TEST_CASE("readdir lists entries sorted, with their kind") {
  Fixture f;
  write_text(f.dir / "b.txt", "x");
  write_text(f.dir / "a.txt", "x");
  write_text(f.dir / "sub/c.txt", "x");
  write_text(f.dir / ".hidden", "x");
  fs::create_directory_symlink(f.dir / "sub", f.dir / "link-to-sub");
  auto entries = f.sandbox.readdir(".");
  std::vector<std::pair<std::string, bool>> seen;
  for (const DirEntry& entry : entries) seen.emplace_back(entry.name, entry.is_dir);
  CHECK(seen == std::vector<std::pair<std::string, bool>>{{".hidden", false},
                                                          {"a.txt", false},
                                                          {"b.txt", false},
                                                          {"link-to-sub", true},
                                                          {"sub", true}});
  CHECK(f.sandbox.readdir("sub").size() == 1);
  CHECK(error_of([&] { f.sandbox.readdir("a.txt"); }).kind() == ErrorKind::kNotADirectory);
  CHECK(error_of([&] { f.sandbox.readdir("nope"); }).kind() == ErrorKind::kNotFound);
}

TEST_CASE("exists") {
  Fixture f;
  write_text(f.dir / "file.txt", "x");
  CHECK(f.sandbox.exists("file.txt"));
  CHECK(f.sandbox.exists("."));
  CHECK_FALSE(f.sandbox.exists("nope"));
  CHECK_FALSE(f.sandbox.exists("file.txt/inner"));
  fs::create_symlink(f.dir / "gone", f.dir / "dangling");
  CHECK_FALSE(f.sandbox.exists("dangling"));
}

TEST_CASE("mkdir creates parents, accepts an existing folder, refuses a file") {
  Fixture f;
  f.sandbox.mkdir("a/b/c");
  CHECK(fs::is_directory(f.dir / "a/b/c"));
  f.sandbox.mkdir("a/b/c");
  write_text(f.dir / "file.txt", "x");
  auto error = error_of([&] { f.sandbox.mkdir("file.txt"); });
  CHECK(error.kind() == ErrorKind::kAlreadyExists);
  CHECK_THAT(error.what(), Catch::Contains("file.txt"));
  CHECK(error_of([&] { f.sandbox.mkdir("file.txt/sub"); }).kind() == ErrorKind::kNotADirectory);
}

TEST_CASE("rm removes files, links and empty folders, and with recursive the rest") {
  Fixture f;
  write_text(f.dir / "file.txt", "x");
  f.sandbox.rm("file.txt", false);
  CHECK_FALSE(fs::exists(f.dir / "file.txt"));

  fs::create_directories(f.dir / "empty");
  f.sandbox.rm("empty", false);
  CHECK_FALSE(fs::exists(f.dir / "empty"));

  write_text(f.dir / "full/deep/x.txt", "x");
  auto not_empty = error_of([&] { f.sandbox.rm("full", false); });
  CHECK(not_empty.kind() == ErrorKind::kNotEmpty);
  CHECK_THAT(not_empty.what(), Catch::Contains("recursively"));
  CHECK(fs::exists(f.dir / "full/deep/x.txt"));
  f.sandbox.rm("full", true);
  CHECK_FALSE(fs::exists(f.dir / "full"));

  write_text(f.dir / "target/keep.txt", "x");
  fs::create_directory_symlink(f.dir / "target", f.dir / "link");
  f.sandbox.rm("link", true);  // the link goes, not what it points to
  CHECK_FALSE(fs::exists(f.dir / "link"));
  CHECK(fs::exists(f.dir / "target/keep.txt"));

  CHECK(error_of([&] { f.sandbox.rm("nope", false); }).kind() == ErrorKind::kNotFound);
  CHECK(error_of([&] { f.sandbox.rm("nope", true); }).kind() == ErrorKind::kNotFound);
}
