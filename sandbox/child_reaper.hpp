#pragma once
// For a process that is a child subreaper (prctl PR_SET_CHILD_SUBREAPER):
// every process started below it is reparented to it when its own parent
// dies, including ones that called setsid() or double-forked, so killing and
// reaping its children until none is left kills everything below it.
//
// Async-signal-safe (no allocation, no locks, no stdio): it runs in a fork of
// the multithreaded server, where only such calls are allowed.

namespace sluice::sandbox {

// Kills (SIGKILL) every child of this process, and every process group such a
// child leads, then reaps them; repeats for the processes reparented to it
// meanwhile until this process has no child at all. Needs /proc, to find
// children it has not been told about.
void kill_and_reap_all_children();

}  // namespace sluice::sandbox
