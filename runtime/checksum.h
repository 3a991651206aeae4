// XXH3-64 checksums of image parts. xxhash is compiled inline (no allocation, no state
// outside the caller's), so it is safe in the checkpoint handler and in the restorer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

namespace ckpt {

inline uint64_t checksum(const void *p, size_t n) { return XXH3_64bits(p, n); }

// Streaming checksum over several pieces; the state lives in the object (576 bytes).
class Checksum {
public:
    Checksum() { XXH3_64bits_reset(&state_); }
    void update(const void *p, size_t n) { XXH3_64bits_update(&state_, p, n); }
    uint64_t digest() const { return XXH3_64bits_digest(&state_); }

private:
    XXH3_state_t state_;
};

}  // namespace ckpt
