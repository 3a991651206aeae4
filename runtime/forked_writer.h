// The forked (copy-on-write) checkpoint writer. Once every thread is stopped and the state
// that is not memory is captured, the checkpointing thread clones a child with raw clone()
// (no atfork handlers, no glibc fork bookkeeping) and CLONE_PARENT: the launcher, not the
// program, is its parent, so the program never gets its SIGCHLD and its wait() never sees it.
// The program's threads resume at once; the child scans the page tables of its copy, writes,
// syncs and commits the image, reports to the launcher in the program's name and exits.
//
// The writer is a copy of a thread inside the checkpoint handler of a possibly threaded
// process: async-signal-safe code only, like the handler itself.
//
// When a fork cannot be afforded (a memory limit the copies of pages the program writes
// meanwhile could exceed), or the writer could not see the memory as the program has it
// (MADV_DONTFORK, MADV_WIPEONFORK), the synchronous writer is used (docs/architecture.md,
// "Forked checkpoints").
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture_set.h"

namespace ckpt::forked {

// Why the copy-on-write writer cannot be afforded now, in `why` (empty: it can). Checks the
// memory the copies could need in the worst case (every anonymous page of the program
// written during the write) against the memory cgroup's limit and the system's available
// memory. With overcommit mode 2 the clone itself fails (ENOMEM) when the commit charge has
// no room: that is the exact check, made by spawn().
void check_affordable(CaptureSet &set, char *why, size_t cap);

// The program's /proc/self/maps at the snapshot instant, kept in the set for the writer's
// comparison with its own view (blind_spot). False if it cannot be read.
bool keep_program_view(CaptureSet &set);

// clone(CLONE_PARENT): the writer's pid in the program, 0 in the writer, -errno.
long spawn();

// First thing in the writer: every signal blocked, killed when the launcher dies, and no
// descriptor of the program kept but the launcher's status socket and the job's lock (a
// program's pipe or socket must not stay open in the writer: its peer would not see EOF).
// False if the launcher is already gone.
bool become_writer(int status_fd, int lock_fd, int launcher_pid);

// In the writer: memory the writer does not see as the program has it, one message naming
// the first such region (address in detail), or nullptr. A MADV_DONTFORK region is missing
// from the writer's maps; a MADV_WIPEONFORK one reads as zeros there (its VmFlags say "wf").
const char *blind_spot(CaptureSet &set, char *detail, size_t cap);

}  // namespace ckpt::forked
