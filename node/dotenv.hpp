#pragma once
// `.env` files for `sluice dev` and `sluice run` (never `sluice serve`):
// KEY=value lines, an optional `export ` prefix, blank lines and `#` comments;
// 'single-quoted' values are literal, "double-quoted" ones know the escapes
// \n \t \r \" \\ (both may span lines), unquoted ones are trimmed and lose
// a trailing ` #comment`. Values already in the environment win over the file.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::node {

// what(): "FILE:LINE: what is wrong" (or "FILE: ..." when it cannot be read).
struct DotenvError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using DotenvEntries = std::vector<std::pair<std::string, std::string>>;

// The entries in file order (a repeated key appears twice; the last wins when
// applied). `file` is only used in error messages. Throws DotenvError.
DotenvEntries parse_dotenv(std::string_view text, const std::string& file);

// Reads and parses a file. Throws DotenvError, also when it cannot be read.
DotenvEntries read_dotenv(const std::filesystem::path& file);

// Sets each variable that the environment does not hold yet (an exported
// value, even an empty one, wins). Returns how many it set.
size_t apply_dotenv(const DotenvEntries& entries);

// What `dev` and `run` do: the explicit file when given (it must exist), else
// project_dir/.env when it exists. Returns the file loaded, or "" for none.
// Throws DotenvError.
std::filesystem::path load_dotenv(const std::filesystem::path& project_dir,
                                  const std::filesystem::path& explicit_file);

}  // namespace sluice::node
