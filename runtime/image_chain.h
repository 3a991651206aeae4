// Incremental images, the writer's side: which parent this image refers to, or why it is a
// full one. The write tracker (write_tracker.h) says which pages are unchanged since its base
// version's snapshot; memory_capture marks their runs inherited; this module checks that the
// base is an image that exists and that the chain stays short and smaller than the memory,
// else it turns the inherited runs back into stored ones (the writer has every page: its
// memory is the snapshot). The restorer's side is launcher/restorer/restore_chain.*.
#pragma once

#include "capture_set.h"

namespace ckpt::chain {

// At most this many increments after a full image, unless the option says otherwise
// (--full-every=N, CKPT_FULL_EVERY): a restore reads at most N+1 images, and a lost link
// costs at most N versions.
constexpr uint32_t kDefaultFullEvery = 8;

// Before capture_memory, in whichever process writes the image: the parent for
// `set.changes.base_version`, or none (set.changes.base_version becomes 0: a full image).
void choose_parent(CaptureSet &set, int dirfd, uint32_t full_every);

// After capture_memory: a full image after all when the chain would hold more bytes than the
// memory it describes. Fills the statistics (pages inherited).
void settle(CaptureSet &set, int dirfd);

// The oldest version `v` needs (the full image at the root of its chain; v itself if it is
// full or cannot be read): pruning keeps everything from there on.
uint64_t root_version(int dirfd, uint64_t v);

}  // namespace ckpt::chain
