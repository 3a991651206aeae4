// JOB/grow-K.map: how many bytes the program's own calls added to each file it changed in epoch
// K, counted by the runtime in a MAP_SHARED mapping of this file (a memory store on the write
// path, in the page cache, so a SIGKILL does not lose it) and read by the recovery, which
// compares them with what the files grew by: a file that grew by more than the program added
// was extended by another process too (docs/persistent-state.md, "Appends by other processes").
//
//   GrowthHeader | GrowthSlot[slot_count]
//
// The map belongs to one log instance (log_nonce = the FileHeader nonce of pct-K.log): a map
// of another instance (an epoch undone and started again) counts nothing. A slot is taken (used
// incremented) when the META record of a regular file is written; it holds the file's identity
// and the bytes the program's calls may have added to it since that record (an upper bound:
// the length of every append, the part of every positioned write or size change beyond the
// highest size the file is known to have had). kUnknownGrowth: written in ways that cannot be
// counted (stdio streams), never compared.
#pragma once

#include <stdint.h>

namespace ckpt::pct {

inline constexpr char kGrowthMagic[8] = {'C', 'K', 'P', 'T', 'G', 'R', 'W', '\0'};
inline constexpr uint32_t kGrowthVersion = 1;
inline constexpr uint32_t kGrowthSlots = 4096;
inline constexpr uint64_t kUnknownGrowth = ~uint64_t(0);

struct GrowthHeader {
    char magic[8];
    uint32_t version;
    uint32_t slot_count;
    uint64_t epoch;
    uint64_t log_nonce;
    uint64_t used;      // slots taken (may exceed slot_count: those files have none)
    uint64_t reserved[3];
};
static_assert(sizeof(GrowthHeader) == 64);

struct GrowthSlot {
    uint64_t dev, ino;  // 0, 0: taken but not filled in (the program died in between)
    uint64_t grown;     // bytes the program may have added (kUnknownGrowth: not counted)
    uint64_t known_size;  // runtime only: a size the file has had at least since
};
static_assert(sizeof(GrowthSlot) == 32);

inline constexpr uint64_t kGrowthMapSize = sizeof(GrowthHeader) + uint64_t(kGrowthSlots) * sizeof(GrowthSlot);

}  // namespace ckpt::pct
