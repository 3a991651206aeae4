// Writes page data as image blocks (image_format.h, BlockRecord): each block checksummed
// (XXH3-64 of its raw bytes), compressed (block_codec.h) or kept raw, and written at the next
// offset of the image, in order. With more than one thread, raw threads (raw_thread.h)
// compress blocks ahead while the calling thread writes them out and compresses too when the
// next block to write is not ready: N threads in all, the caller one of them.
//
// Async-signal-safe: the workspaces, stacks and slots come from the caller's arena, the
// threads coordinate through atomics and futexes, and the only system calls are pwrite,
// sync_file_range, clock_gettime, clone, futex and exit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "compress/block_codec.h"
#include "compress/raw_thread.h"
#include "image_format.h"

namespace ckpt::codec {

struct BlockSource {
    const char *src;
    uint32_t raw;      // bytes, a multiple of the page size, at most kBlockBytes
    uint32_t flags;    // BlockSourceFlags
};

enum BlockSourceFlags : uint32_t {
    // The bytes may change while they are written (the stack the writer itself runs on): they
    // are copied once, and the checksum, the compression and the write all use that copy.
    kSourceVolatile = 1u << 0,
};

class BlockPipeline {
public:
    static constexpr int kMaxThreads = 8;

    // level 0: every block stored raw (checksummed only). threads: compressing threads in all,
    // the caller included (1: no thread is started). False if the arena has no room.
    bool start(Arena &arena, int level, int threads);
    // Checksums, compresses and writes blocks in[0, n) one after the other from `offset`,
    // filling out[i] (stored_offset, stored_size, raw_size, codec, checksum). Returns the
    // offset after the last block, or -errno of a failed write.
    int64_t run(int fd, const BlockSource *in, image::BlockRecord *out, size_t n, uint64_t offset);
    // Ends and joins the threads (safe to call when start() failed or was never called).
    void stop();

    int threads() const { return n_threads_; }
    uint64_t compress_ns() const { return compress_ns_; }  // summed over the threads
    uint64_t raw_bytes() const { return raw_bytes_; }
    uint64_t stored_bytes() const { return stored_bytes_; }

    struct Slot;
    struct Worker;

private:
    friend void pipeline_worker(void *);
    bool claim_and_compress(Compressor &c);

    int level_ = 0, n_threads_ = 1;
    Slot *slots_ = nullptr;
    uint32_t n_slots_ = 0;
    Worker *workers_ = nullptr;
    Compressor own_;  // the caller's
    // The batch: written by run() before the generation moves on.
    const BlockSource *in_ = nullptr;
    image::BlockRecord *out_ = nullptr;
    uint32_t n_ = 0;
    // Shared counters (futex words).
    volatile uint32_t generation_ = 0;  // moves on at each batch and at stop; workers wait on it
    volatile uint32_t next_ = 0;        // next block to claim
    volatile uint32_t written_ = 0;     // blocks written: a slot is free once its block is
    volatile uint32_t published_ = 0;   // blocks compressed; the caller waits on it
    volatile uint32_t stopping_ = 0;
    volatile uint64_t compress_ns_ = 0;
    uint64_t raw_bytes_ = 0, stored_bytes_ = 0;
};

}  // namespace ckpt::codec
