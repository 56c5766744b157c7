#include "node/dotenv.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace sluice::node {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

bool is_key_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_key_char(char c) {
  return is_key_start(c) || (c >= '0' && c <= '9');
}

// Walks the text keeping the line number, for errors that name the line.
class Cursor {
 public:
  Cursor(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  char take() {
    const char c = text_[pos_++];
    if (c == '\n') ++line_;
    return c;
  }
  void skip_blanks() {
    while (!done() && is_blank(peek())) ++pos_;
  }
  bool at_line_end() const { return done() || peek() == '\n'; }
  bool starts_with(std::string_view prefix) const {
    return text_.substr(pos_).substr(0, prefix.size()) == prefix;
  }
  void advance(size_t count) { pos_ += count; }
  // The rest of the current line, without its newline (which is consumed).
  std::string_view rest_of_line() {
    const size_t end = std::min(text_.find('\n', pos_), text_.size());
    const std::string_view rest = text_.substr(pos_, end - pos_);
    pos_ = end;
    if (!done()) take();
    return rest;
  }
  int line() const { return line_; }

  [[noreturn]] void fail(int line, const std::string& what) const {
    throw DotenvError(file_ + ":" + std::to_string(line) + ": " + what);
  }

 private:
  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
  int line_ = 1;
};

std::string read_key(Cursor& in, int line) {
  std::string key;
  while (!in.done() && is_key_char(in.peek())) key += in.take();
  if (key.empty() || !is_key_start(key.front())) {
    std::string shown(in.rest_of_line());
    while (!shown.empty() && is_blank(shown.back())) shown.pop_back();
    in.fail(line,
            "expected KEY=value (KEY: letters, digits and _, not starting with a digit), "
            "got '" +
                key + shown + "'");
  }
  return key;
}

// After a closing quote only blanks and a comment may follow.
void finish_quoted_line(Cursor& in, int line) {
  in.skip_blanks();
  if (in.at_line_end()) {
    if (!in.done()) in.take();
    return;
  }
  if (in.peek() != '#') in.fail(line, "unexpected text after the closing quote");
  in.rest_of_line();
}

std::string read_quoted(Cursor& in, int line) {
  const char quote = in.take();
  std::string value;
  while (!in.done() && in.peek() != quote) {
    char c = in.take();
    if (quote == '"' && c == '\\' && !in.done()) {
      const char escaped = in.take();
      switch (escaped) {
        case 'n':
          c = '\n';
          break;
        case 't':
          c = '\t';
          break;
        case 'r':
          c = '\r';
          break;
        case '"':
        case '\\':
          c = escaped;
          break;
        default:  // unknown escapes stay as written
          value += '\\';
          c = escaped;
      }
    }
    value += c;
  }
  if (in.done()) {
    in.fail(line, std::string("unterminated ") + (quote == '"' ? "double" : "single") +
                      "-quoted value (no closing " + quote + ")");
  }
  in.take();
  finish_quoted_line(in, line);
  return value;
}

std::string read_unquoted(Cursor& in) {
  const std::string_view raw = in.rest_of_line();
  size_t end = raw.size();
  // A comment starts at a # that follows a blank: KEY=a#b keeps its #.
  for (size_t i = 1; i < raw.size(); ++i) {
    if (raw[i] == '#' && is_blank(raw[i - 1])) {
      end = i;
      break;
    }
  }
  std::string value(raw.substr(0, end));
  while (!value.empty() && is_blank(value.back())) value.pop_back();
  return value;
}

}  // namespace

DotenvEntries parse_dotenv(std::string_view text, const std::string& file) {
  DotenvEntries entries;
  Cursor in(text, file);
  while (!in.done()) {
    const int line = in.line();
    in.skip_blanks();
    if (in.at_line_end() || in.peek() == '#') {
      in.rest_of_line();
      continue;
    }
    if (in.starts_with("export ") || in.starts_with("export\t")) {
      in.advance(7);
      in.skip_blanks();
    }
    std::string key = read_key(in, line);
    in.skip_blanks();
    if (in.peek() != '=') {
      in.fail(line, "expected '=' after " + key);
    }
    in.take();
    in.skip_blanks();
    std::string value =
        (in.peek() == '"' || in.peek() == '\'') ? read_quoted(in, line) : read_unquoted(in);
    entries.emplace_back(std::move(key), std::move(value));
  }
  return entries;
}

DotenvEntries read_dotenv(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw DotenvError(file.string() + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << stream.rdbuf();
  if (stream.bad()) throw DotenvError(file.string() + ": cannot read");
  return parse_dotenv(text.str(), file.string());
}

size_t apply_dotenv(const DotenvEntries& entries) {
  // The last of a repeated key is the file's value.
  std::map<std::string, std::string> last;
  for (const auto& [key, value] : entries) last[key] = value;
  size_t applied = 0;
  for (const auto& [key, value] : last) {
    if (std::getenv(key.c_str()) != nullptr) continue;
    setenv(key.c_str(), value.c_str(), 0);
    ++applied;
  }
  return applied;
}

std::filesystem::path load_dotenv(const std::filesystem::path& project_dir,
                                  const std::filesystem::path& explicit_file) {
  std::filesystem::path file = explicit_file;
  if (file.empty()) {
    file = project_dir / ".env";
    std::error_code ignored;
    if (!std::filesystem::exists(file, ignored)) return {};
  } else if (!std::filesystem::exists(file)) {
    throw DotenvError(file.string() + ": no such file (given with --env)");
  }
  apply_dotenv(read_dotenv(file));
  return file;
}

}  // namespace sluice::node
