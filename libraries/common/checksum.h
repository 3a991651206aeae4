// XXH3-64 checksums of the libraries' stored data (xxhash, as the runtime's image uses).
#pragma once

#include <cstddef>
#include <cstdint>
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ckp {

inline uint64_t checksum(const void *p, size_t n) { return XXH3_64bits(p, n); }

// Incremental form, for data streamed in chunks.
class Checksum {
public:
    Checksum() { XXH3_64bits_reset(&state_); }
    void update(const void *p, size_t n) { XXH3_64bits_update(&state_, p, n); }
    uint64_t digest() const { return XXH3_64bits_digest(&state_); }

private:
    XXH3_state_t state_;
};

}  // namespace ckp
