// One image block (at most image::kBlockPages pages) compressed with zstd or stored raw, with
// no allocation: the zstd contexts are "static" ones laid out in memory the caller provides
// (an arena), so that the codec runs in the checkpoint handler, in a forked writer and its
// worker threads, and in the restorer. zstd with static contexts calls no malloc, takes no
// lock, and neither reads nor writes errno or any thread-local variable of its own (its only
// touch of the thread pointer is the stack protector's read of the canary; checked with nm on
// Debian's libzstd.a 1.5.4: the compression and decompression objects refer to nothing outside
// zstd but memcpy/memset/memmove and __stack_chk_fail).
//
// Incompressible data costs little: a prefix of the block is compressed first, and a block
// whose prefix does not shrink is stored raw without compressing the rest (random memory, or
// memory that is already compressed). A block whose frame is not smaller than kRawAbove of
// its raw size is stored raw as well: decompressing it would cost more than the bytes saved.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "image_format.h"

namespace ckpt::codec {

inline constexpr uint32_t kBlockBytes = image::kBlockPages * uint32_t(image::kPageSize);
// A probe of this many bytes decides whether the rest is worth compressing.
inline constexpr uint32_t kProbeBytes = 16 * 1024;
// Stored raw unless the frame is at most 7/8 of the raw bytes.
inline constexpr uint32_t kRawAboveNum = 7, kRawAboveDen = 8;

// ckpt-run's level when neither --compress nor --no-compress is given (docs/performance.md,
// "Compression": measured on this machine; 0 = off).
inline constexpr int kDefaultLevel = 0;
inline constexpr int kMinLevel = -7;  // zstd's fast levels go lower; they gain nothing more here
inline constexpr int kMaxLevel = 19;

// Bytes the caller provides for a Compressor at `level` (blocks up to kBlockBytes), and for
// its output buffer (a zstd frame of a kBlockBytes block, in the worst case).
size_t compressor_workspace(int level);
size_t compressed_capacity();

class Compressor {
public:
    // mem: compressor_workspace(level) bytes, 8-byte aligned, kept as long as the object.
    bool init(void *mem, size_t size, int level);
    // Compresses src[0, n) (n <= kBlockBytes) into dst (compressed_capacity() bytes). Returns
    // BlockCodec::Zstd with stored = the frame's size, or BlockCodec::Raw (stored = n, dst
    // untouched: the caller writes src itself).
    image::BlockCodec compress(const void *src, uint32_t n, void *dst, uint32_t &stored);
    int level() const { return level_; }

private:
    void *cctx_ = nullptr;
    int level_ = 0;
};

size_t decompressor_workspace();

class Decompressor {
public:
    bool init(void *mem, size_t size);
    // Decompresses one frame of `stored` bytes into dst, which must become exactly `raw` bytes.
    // False if the frame is damaged or of another size.
    bool decompress(const void *src, uint32_t stored, void *dst, uint32_t raw);

private:
    void *dctx_ = nullptr;
};

}  // namespace ckpt::codec
