// Process attributes: timers, resource limits, scheduling and personality, credentials and
// capabilities, the sandbox (no_new_privs, seccomp), file locks, process group and session,
// pending signals, and the per-thread name. Capture and restore side by side, one image
// section (image_format.h, ProcessAttrsRecord and the arrays after it).
//
// Everything here is raw system calls (no libc, no allocation): capture runs in the
// checkpoint handler, restore in the restored process before the handler returns, and the
// restorability check in ckpt-restore before anything is torn down.
//
// Per-thread state (ThreadAttrsRecord, thread-directed pending signals) is kept apart from
// the process's so that a multi-threaded capture repeats it per thread.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture_set.h"
#include "image_format.h"
#include "text.h"

namespace ckpt::attrs {

// The section as the image holds it: pointers into its bytes.
struct View {
    const image::ProcessAttrsRecord *proc = nullptr;
    const image::ThreadAttrsRecord *threads = nullptr;
    const image::PosixTimerRecord *timers = nullptr;
    const image::FileLockRecord *locks = nullptr;
    const image::PendingSignalRecord *pending = nullptr;
};

// Bytes of a section with these counts (each array 8-byte aligned).
size_t section_size(uint32_t n_threads, uint32_t n_timers, uint32_t n_pending, uint32_t n_locks);

// Checks the counts against `size` and fills `out`; false if the section is malformed.
bool parse(const void *bytes, size_t size, View &out);

// The checkpoint handler, first of all captures: the section into `set.attrs`. `ckpt_signal`
// (the checkpoint signal) is ckpt's, never recorded as pending. Refuses (EOPNOTSUPP) a seccomp
// filter, a SIGEV_THREAD timer, more than kMaxGroups supplementary groups.
// `launcher`: ckpt owns the kernel's parent-death signal (the program's is virtual).
CaptureError capture(CaptureSet &set, int ckpt_signal, bool launcher);

// Only the POSIX timers' refusal (a SIGEV_THREAD timer): named when the other threads could not
// be stopped, because glibc's helper thread of such a timer blocks every signal for good.
CaptureError check_timers(CaptureSet &set);
// After the descriptors are captured: the locks held through each, appended to the section.
CaptureError capture_locks(CaptureSet &set);

// ckpt-restore, before teardown: false if the restoring process cannot give back what the
// section records (credentials it may not take, a hard limit above its own, a lower nice, a
// capability it lacks, a lock another process holds now, timer ids the kernel cannot
// recreate), with every one named in `why`. `fd_path(fd, ctx)` is the path a descriptor of the
// image is reopened from (nullptr if none).
bool check_restorable(const View &v, const char *(*fd_path)(int fd, const void *ctx), const void *ctx,
                      text::Builder &why);

// The restored process, after its descriptors are back: limits, nice, personality, name,
// timers, locks, process group and session, pending signals (none but the checkpoint signal
// `ckpt_signal` is left pending that the image does not record). A lock another process took in
// the meantime ends the process through `refuse(text)`; other problems go to `warn(text)`.
void restore(const View &v, int ckpt_signal, void (*warn)(const char *), void (*refuse)(const char *));

// Last, after everything that needs privilege (file reopens, the epoch log): supplementary
// groups, gids, uids, capabilities, securebits, dumpable, no_new_privs. Through `refuse` if
// the kernel says no (the restorer checked that it would not).
void restore_credentials(const image::ProcessAttrsRecord &p, void (*refuse)(const char *));

// At library start: the resource limits the process was given (ulimit, the launcher's). A
// restore gives back only the limits the program changed since; the others are the new
// environment's.
void note_inherited_limits();

// The program's own parent-death signal (PR_SET_PDEATHSIG). Under a launcher ckpt uses the
// kernel's for the launcher's death (launcher_link.cpp), so the program's is kept here, in
// the runtime's memory (and so in every image), and the prctl wrapper shows it.
int program_pdeathsig();
void set_program_pdeathsig(int sig);

}  // namespace ckpt::attrs
