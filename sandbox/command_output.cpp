#include "sandbox/command_output.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/utf8.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

// O_CLOEXEC: a command started by another worker thread at the same moment
// must not inherit this one's pipes (it would hold them open).
Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw SandboxError(ErrorKind::kIo, std::string("pipe2 failed: ") + std::strerror(errno));
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void Capture::add(const char* data, size_t size, size_t cap) {
  const size_t room = cap > kept.size() ? cap - kept.size() : 0;
  const size_t take = std::min(room, size);
  kept.append(data, take);
  dropped += size - take;
}

std::string finish_stream(const Capture& capture, const char* name, size_t cap) {
  std::string text = to_valid_utf8(capture.kept);
  if (capture.dropped > 0) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "sluice: " + std::string(name) + " truncated at " + std::to_string(cap) + " bytes; " +
            std::to_string(capture.dropped) + " more bytes were discarded\n";
  }
  return text;
}

ExecResult captured_result(const Capture& out, const Capture& err, size_t cap) {
  ExecResult result;
  result.stdout_text = finish_stream(out, "stdout", cap);
  result.stderr_text = finish_stream(err, "stderr", cap);
  result.truncated = out.dropped > 0 || err.dropped > 0;
  return result;
}

void mark_timed_out(ExecResult& result, std::chrono::milliseconds timeout) {
  result.timed_out = true;
  result.exit_code = 124;
  if (!result.stderr_text.empty() && result.stderr_text.back() != '\n') result.stderr_text += '\n';
  result.stderr_text += "sluice: command timed out after " + std::to_string(timeout.count()) +
                        " ms; every process it started was killed\n";
}

bool pump_output(const PumpTarget& target, SteadyTime deadline,
                 std::chrono::milliseconds after_exit, const std::function<void()>& on_exit) {
  using Clock = std::chrono::steady_clock;
  std::vector<char> buffer(64 * 1024);
  bool exited = false;
  SteadyTime stop = deadline;
  // Reading both streams together keeps a command that fills one pipe while
  // we would be waiting on the other from blocking.
  while (target.out.valid() || target.err.valid() || !exited) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(stop - Clock::now()).count();
    if (left <= 0) break;
    std::array<pollfd, 3> watched{{{target.out.get(), POLLIN, 0},
                                   {target.err.get(), POLLIN, 0},
                                   {exited ? -1 : target.process, POLLIN, 0}}};  // -1 is skipped
    const int ready =
        ::poll(watched.data(), watched.size(), static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (ready < 0 && errno != EINTR) {
      throw SandboxError(ErrorKind::kIo, std::string("poll failed: ") + std::strerror(errno));
    }
    if (ready <= 0) continue;
    if (watched[2].fd >= 0 && watched[2].revents != 0) {
      exited = true;
      stop = std::min(deadline, Clock::now() + after_exit);
      on_exit();
    }
    std::array<std::pair<UniqueFd*, Capture*>, 2> streams{
        {{&target.out, &target.out_capture}, {&target.err, &target.err_capture}}};
    for (size_t i = 0; i < streams.size(); ++i) {
      if (watched[i].fd < 0 || watched[i].revents == 0) continue;
      const ssize_t n = ::read(streams[i].first->get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        streams[i].first->reset();
        continue;
      }
      streams[i].second->add(buffer.data(), static_cast<size_t>(n), target.cap);
    }
  }
  target.out.reset();
  target.err.reset();
  return exited;
}

}  // namespace sluice::sandbox
