#include "events.h"

#include "persistent/persist.h"

namespace ckpt::events {

bool before_checkpoint() { return persist::before_checkpoint(); }

void after_checkpoint(uint64_t version) { persist::after_checkpoint(version); }

void after_restore(uint64_t version) { persist::after_restore(version); }

void program_start() { persist::program_start(); }

}  // namespace ckpt::events
