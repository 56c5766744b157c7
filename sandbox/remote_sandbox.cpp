#include "sandbox/remote_sandbox.hpp"

#include <nlohmann/json.hpp>

#include "core/untrusted_json.hpp"
#include "sandbox/base64.hpp"

namespace sluice::sandbox {
namespace {

using nlohmann::json;

SandboxError bad_answer(std::string_view operation, const std::string& what) {
  return SandboxError(ErrorKind::kUnavailable,
                      "the remote sandbox's answer to " + std::string(operation) + " " + what);
}

// The field, checked to be of the type the protocol promises.
const json& field(const json& answer, std::string_view operation, const char* name,
                  json::value_t type) {
  auto it = answer.find(name);
  bool matches =
      it != answer.end() && (it->type() == type || (type == json::value_t::number_integer &&
                                                    it->type() == json::value_t::number_unsigned));
  if (!matches) throw bad_answer(operation, std::string("lacks a valid \"") + name + "\"");
  return *it;
}

// The server's {"error":{"type","message"}} as the SandboxError it stands for.
SandboxError remote_error(int status, const json& answer) {
  const json* error = answer.is_object() && answer.contains("error") ? &answer["error"] : nullptr;
  bool well_formed = error && error->is_object() && error->value("type", json()).is_string() &&
                     error->value("message", json()).is_string();
  if (!well_formed) {
    return SandboxError(ErrorKind::kUnavailable,
                        "the remote sandbox failed with HTTP " + std::to_string(status));
  }
  std::string type = (*error)["type"];
  std::string message = (*error)["message"];
  if (status == 401) {
    return SandboxError(ErrorKind::kUnavailable,
                        "the remote sandbox refused the credentials: " + message);
  }
  return SandboxError(error_kind_from_name(type).value_or(ErrorKind::kIo), message);
}

}  // namespace

RemoteSandbox::RemoteSandbox(RemoteSandboxOptions options)
    : options_(std::move(options)), endpoint_(parse_http_url(options_.base_url)) {
  if (options_.call_timeout.count() <= 0 || options_.default_exec_timeout.count() <= 0 ||
      options_.max_response_bytes == 0) {
    throw SandboxError(ErrorKind::kInvalidArgument,
                       "the remote sandbox's timeouts and response limit must be positive");
  }
}

json RemoteSandbox::call(std::string_view operation, const json& body,
                         std::chrono::milliseconds timeout) {
  HttpPost post;
  post.target = endpoint_.base_path + "/v1/" + std::string(operation);
  try {
    post.body = body.dump();
  } catch (const json::exception&) {
    throw SandboxError(ErrorKind::kInvalidArgument,
                       "a path, command or variable is not valid UTF-8 text");
  }
  post.bearer_token = options_.bearer_token;
  post.timeout = timeout;
  post.max_response_bytes = options_.max_response_bytes;
  HttpAnswer answer = http_post(endpoint_, post);

  json parsed = parse_untrusted_json(answer.body).value;
  if (answer.status < 200 || answer.status > 299) throw remote_error(answer.status, parsed);
  if (!parsed.is_object()) throw bad_answer(operation, "is not a JSON object");
  return parsed;
}

std::string RemoteSandbox::read(const std::string& path) {
  json answer = call("read", {{"path", path}}, options_.call_timeout);
  return field(answer, "read", "text", json::value_t::string);
}

std::string RemoteSandbox::read_bytes(const std::string& path) {
  json answer = call("read_bytes", {{"path", path}}, options_.call_timeout);
  auto bytes = base64_decode(
      field(answer, "read_bytes", "base64", json::value_t::string).get_ref<const std::string&>());
  if (!bytes) throw bad_answer("read_bytes", "holds invalid base64");
  return *bytes;
}

void RemoteSandbox::write(const std::string& path, std::string_view bytes) {
  call("write", {{"path", path}, {"base64", base64_encode(bytes)}}, options_.call_timeout);
}

FileStat RemoteSandbox::stat(const std::string& path) {
  json answer = call("stat", {{"path", path}}, options_.call_timeout);
  FileStat result;
  result.size = field(answer, "stat", "size", json::value_t::number_integer).get<uint64_t>();
  result.is_dir = field(answer, "stat", "is_dir", json::value_t::boolean);
  int64_t mtime_ms = field(answer, "stat", "mtime_ms", json::value_t::number_integer);
  result.mtime = std::chrono::system_clock::time_point(std::chrono::milliseconds(mtime_ms));
  return result;
}

std::vector<DirEntry> RemoteSandbox::readdir(const std::string& path) {
  json answer = call("readdir", {{"path", path}}, options_.call_timeout);
  std::vector<DirEntry> entries;
  for (const json& entry : field(answer, "readdir", "entries", json::value_t::array)) {
    if (!entry.is_object()) throw bad_answer("readdir", "lists an entry that is not an object");
    entries.push_back({field(entry, "readdir", "name", json::value_t::string),
                       field(entry, "readdir", "is_dir", json::value_t::boolean)});
  }
  return entries;
}

bool RemoteSandbox::exists(const std::string& path) {
  json answer = call("exists", {{"path", path}}, options_.call_timeout);
  return field(answer, "exists", "exists", json::value_t::boolean);
}

void RemoteSandbox::mkdir(const std::string& path) {
  call("mkdir", {{"path", path}}, options_.call_timeout);
}

void RemoteSandbox::rm(const std::string& path, bool recursive) {
  call("rm", {{"path", path}, {"recursive", recursive}}, options_.call_timeout);
}

ExecResult RemoteSandbox::exec(const ExecRequest& request) {
  auto timeout = request.timeout.value_or(options_.default_exec_timeout);
  if (timeout.count() <= 0) {
    throw SandboxError(ErrorKind::kInvalidArgument, "the timeout must be positive");
  }
  json body = {{"command", request.command},
               {"cwd", request.cwd},
               {"env", request.env},
               {"timeout_ms", timeout.count()}};
  // The command may use all of its time; the call's own limit comes on top.
  json answer = call("exec", body, timeout + options_.call_timeout);
  ExecResult result;
  result.exit_code = field(answer, "exec", "exit_code", json::value_t::number_integer);
  result.stdout_text = field(answer, "exec", "stdout", json::value_t::string);
  result.stderr_text = field(answer, "exec", "stderr", json::value_t::string);
  result.timed_out = field(answer, "exec", "timed_out", json::value_t::boolean);
  result.truncated = field(answer, "exec", "truncated", json::value_t::boolean);
  return result;
}

}  // namespace sluice::sandbox
