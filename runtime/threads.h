// Threads: stopping every thread of the process at one instant, the per-thread state that is
// not memory (capture and restore side by side), and resuming them all together.
//
// The checkpoint signal reaches one thread, the coordinator. It sends every other thread of
// /proc/self/task a stop request (the checkpoint signal again, queued to that thread with a
// tag: rt_tgsigqueueinfo) and lists the tasks again until no new one appears and every one it
// asked has parked, so that threads created meanwhile are caught. A stopped thread saves its
// handler's resume point (ckpt_context_save) and what the kernel keeps per thread (FS base,
// alternate stack, rseq, robust list, clear_child_tid, name, scheduling), and parks on a
// futex. Its interrupted registers and full xsave state are in the signal frame on its own
// stack: memory, restored by rt_sigreturn when the restored thread leaves its handler.
//
// In a restored process each thread resumes in its handler (the restorer's blob cloned it),
// restores its kernel state, counts itself back and waits; the coordinator waits until every
// thread is back, finishes the restore (descriptors, launcher) and only then lets them all go.
//
// Everything here runs in the checkpoint signal handler: raw system calls only.
#pragma once

#include <signal.h>

#include "capture_set.h"
#include "tid_locks.h"

namespace ckpt::threads {

// Most threads one checkpoint handles (a larger process is refused with a message).
constexpr int kMaxThreads = 1024;

// If `si` is a checkpoint another thread handed to this one (from this process, tagged): how
// many times it was handed on (glibc's stack-cache lock, see stop_others()); else 0.
int handoffs(const siginfo_t *si);

// Whether `si` is a coordinator's stop request (from this process, tagged).
bool is_stop_request(const siginfo_t *si);

// The handler of a stop request: save this thread's state and park until released (after a
// restore: until every thread is back and the coordinator lets them go). A request of a stop
// that is over (it was pending while the thread was in a handler, or blocked) is ignored,
// unless that stop gave way to this thread's block: then true, take the checkpoint now.
bool on_stop_request(const siginfo_t *si, void *uc);

// At the end of this thread's outermost wrapper section: if a stop reached it inside the
// section, asks for that stop again (it parks now, or takes the checkpoint that gave way to
// it) and returns true.
bool stop_owed();

// Becomes the coordinator of a checkpoint, `uc` the frame of the code it interrupted
// (nullptr from chkpnt()), `handed` its handoffs(). False if another thread coordinates one already: its checkpoint
// includes this thread, which parks when that thread's stop request reaches it.
bool begin(void *uc, int handed = 0);

// For a checkpoint request (from the launcher, or handed on): begin(), or, if another thread
// coordinates one (the launcher's next request can arrive before the last one's coordinator
// has let go: it reported first), notes the request, which that coordinator queues to the
// process again when it lets go (release()). True if this thread coordinates now.
bool begin_or_request(void *uc, int handed);

// chkpnt() in a thread while another thread coordinates: returns once that checkpoint is over.
void wait_for_other_coordinator();

// Stops every other thread. A thread that blocks the checkpoint signal by the program's
// choice defers the checkpoint (err.err EAGAIN, err.what the whole message) until it unblocks
// it; so does one that stays inside a wrapper's section (persist.h) for 200 ms, until it
// leaves it. If glibc's stack-cache
// lock stays taken (glibc_stack_lock.h), the checkpoint is handed to another thread (err.err
// EINPROGRESS: nothing to report; up to 3 times, then it waits 100 ms for the lock and goes on
// without it). On other failures (a thread that never takes the signal: it blocked it
// by a raw system call, or it is a leader that exited before the others) nothing is stopped
// any more: release() was called.
CaptureError stop_others();

// The record of every stopped thread, the coordinator's with the context in g_rt.ctx.
CaptureError capture(CaptureSet &set);

// Ends a stop (after a checkpoint, a refusal, or a restore): every parked thread goes on.
void release();

// In the restored coordinator, first thing: waits until every other thread is back in the
// runtime (then none runs in the restorer's area any more), restores its own kernel state.
void await_restored();

// After a restore with changed tids: a lock that names the old tid of a thread that came
// back under another one (tid_locks.h).
// [restorer_lo, +len): the restorer's area, still mapped (it holds the old ids too).
bool find_tid_lock(uint64_t restorer_lo, uint64_t restorer_len, tid_locks::Found &out);

// Threads in the last stop and, after a restore, how many came back under another tid.
int stopped_count();
int changed_tids();

}  // namespace ckpt::threads
