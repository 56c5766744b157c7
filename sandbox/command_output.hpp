#pragma once
// Collecting a command's stdout and stderr under a deadline. A command's
// descendants can hold its pipes open for ever (a background job, a process
// that escaped): reading stops at the deadline, and shortly after the process
// we wait for has exited, whatever the pipes do. Blocking: sandbox worker
// threads only.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "sandbox/sandbox.hpp"
#include "sandbox/unique_fd.hpp"

namespace sluice::sandbox {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// Both ends O_CLOEXEC. Throws SandboxError (io_error).
Pipe make_pipe();

// One output stream: keeps the first `cap` bytes and counts the rest.
struct Capture {
  std::string kept;
  size_t dropped = 0;

  void add(const char* data, size_t size, size_t cap);
};

// The stream as valid UTF-8, with a note when bytes were dropped.
std::string finish_stream(const Capture& capture, const char* name, size_t cap);

// The captured streams as a result; exit code and timeout are the caller's.
ExecResult captured_result(const Capture& out, const Capture& err, size_t cap);

// Marks the result timed out: exit code 124 (as timeout(1)) and a note on
// stderr.
void mark_timed_out(ExecResult& result, std::chrono::milliseconds timeout);

using SteadyTime = std::chrono::steady_clock::time_point;

struct PumpTarget {
  UniqueFd& out;
  UniqueFd& err;
  int process;  // pidfd of the process whose end ends the command
  size_t cap;   // bytes kept per stream
  Capture& out_capture;
  Capture& err_capture;
};

// Reads both streams until they reach end of file and the process has
// exited, until `deadline`, or until `after_exit` has passed since the
// process exited, whichever comes first; then closes both read ends.
// `on_exit` runs once, as soon as the process has exited (to kill what it
// left behind). True when the process exited before the deadline.
bool pump_output(const PumpTarget& target, SteadyTime deadline,
                 std::chrono::milliseconds after_exit, const std::function<void()>& on_exit);

}  // namespace sluice::sandbox
