#include "events.h"

#include "persistent/persist.h"

namespace ckpt::events {

bool before_checkpoint() { return persist::before_checkpoint(); }

bool before_commit(uint64_t version, uint64_t generation) { return persist::seal_epoch(version, generation); }

void before_commit_failed(uint64_t version) { persist::epoch_not_committed(version); }

void after_checkpoint(uint64_t version) { persist::after_checkpoint(version); }

void after_restore(uint64_t version) { persist::after_restore(version); }

void program_start() { persist::program_start(); }

}  // namespace ckpt::events
