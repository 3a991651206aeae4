// Events of the checkpoint life cycle that modules other than the capture join in (the
// persistent-state layer, the public API). All run inside the checkpoint signal handler or
// the post-restore path: async-signal-safe code only. Each module adds its call here, so the
// handler does not grow a special case per module.
#pragma once

#include <stdint.h>

namespace ckpt::events {

// Before anything is captured. Returns false to defer the checkpoint (a wrapper is in the
// middle of recording an undo record and its change; it takes the checkpoint when it ends).
bool before_checkpoint();

// Just before the image of `version` is written. True: the persistent state sealed its epoch
// and started the next one's log (the image records image::kProcEpochLog). If the image is
// then not committed, before_commit_failed(version).
bool before_commit(uint64_t version, uint64_t generation);
void before_commit_failed(uint64_t version);

// After version `version` is durably committed: a new epoch of the persistent state begins.
void after_checkpoint(uint64_t version);

// In the restored process, after descriptors are reopened.
void after_restore(uint64_t version);

// In the program, once the runtime is active (from its constructor, before the launcher may
// send the first checkpoint signal): epoch 0 begins.
void program_start();

}  // namespace ckpt::events
