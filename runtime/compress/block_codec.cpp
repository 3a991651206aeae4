#include "compress/block_codec.h"

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

// zstd calls these tracing hooks if someone defines them (weak references): defined here,
// hidden, so that the codec never calls into a program that happens to define them.
extern "C" {
__attribute__((visibility("hidden"))) unsigned long long ZSTD_trace_compress_begin(const void *) { return 0; }
__attribute__((visibility("hidden"))) void ZSTD_trace_compress_end(unsigned long long, const void *) {}
__attribute__((visibility("hidden"))) unsigned long long ZSTD_trace_decompress_begin(const void *) { return 0; }
__attribute__((visibility("hidden"))) void ZSTD_trace_decompress_end(unsigned long long, const void *) {}
}

namespace ckpt::codec {
namespace {

// The parameters zstd picks for inputs of a block's size (smaller tables than for an
// unknown size: less workspace and faster to reset for each block).
ZSTD_compressionParameters params(int level) { return ZSTD_getCParams(level, kBlockBytes, 0); }

}  // namespace

size_t compressor_workspace(int level) { return ZSTD_estimateCCtxSize_usingCParams(params(level)); }

size_t compressed_capacity() { return ZSTD_COMPRESSBOUND(kBlockBytes); }

bool Compressor::init(void *mem, size_t size, int level)
{
    if (level < kMinLevel) level = kMinLevel;
    if (level > kMaxLevel) level = kMaxLevel;
    ZSTD_CCtx *c = ZSTD_initStaticCCtx(mem, size);
    if (!c) return false;
    cctx_ = c;
    level_ = level;
    return true;
}

image::BlockCodec Compressor::compress(const void *src, uint32_t n, void *dst, uint32_t &stored)
{
    stored = n;
    if (!cctx_ || n == 0) return image::BlockCodec::Raw;
    // ZSTD_compressCCtx: the frame has its content size (the decompressor checks it) and no
    // checksum of its own (the block record has the XXH3 of the raw bytes).
    auto *c = static_cast<ZSTD_CCtx *>(cctx_);
    const size_t cap = compressed_capacity();
    if (n > 2 * kProbeBytes) {
        // The probe: if the first kProbeBytes do not shrink to 7/8, neither will the rest
        // (memory that is random or already compressed is so throughout a block, as a rule).
        const size_t p = ZSTD_compressCCtx(c, dst, cap, src, kProbeBytes, level_);
        if (ZSTD_isError(p) || p * kRawAboveDen > size_t(kProbeBytes) * kRawAboveNum) return image::BlockCodec::Raw;
    }
    const size_t r = ZSTD_compressCCtx(c, dst, cap, src, n, level_);
    if (ZSTD_isError(r) || r * kRawAboveDen > size_t(n) * kRawAboveNum) return image::BlockCodec::Raw;
    stored = uint32_t(r);
    return image::BlockCodec::Zstd;
}

size_t decompressor_workspace() { return ZSTD_estimateDCtxSize(); }

bool Decompressor::init(void *mem, size_t size)
{
    dctx_ = ZSTD_initStaticDCtx(mem, size);
    return dctx_ != nullptr;
}

bool Decompressor::decompress(const void *src, uint32_t stored, void *dst, uint32_t raw)
{
    if (!dctx_) return false;
    auto *d = static_cast<ZSTD_DCtx *>(dctx_);
    // The frame must say it holds exactly `raw` bytes and be exactly `stored` bytes long.
    if (ZSTD_getFrameContentSize(src, stored) != raw) return false;
    if (ZSTD_findFrameCompressedSize(src, stored) != stored) return false;
    const size_t r = ZSTD_decompressDCtx(d, dst, raw, src, stored);
    return !ZSTD_isError(r) && r == raw;
}

}  // namespace ckpt::codec
