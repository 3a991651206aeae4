#include "compress/block_pipeline.h"

#include "checksum.h"
#include "sys/raw_syscall.h"

namespace ckpt::codec {

// One block in flight: block i uses slot i % n_slots_, free again once block i is written.
struct BlockPipeline::Slot {
    volatile uint32_t ready;  // i + 1 once block i is compressed and checksummed
    image::BlockCodec codec;
    uint32_t stored;
    uint64_t checksum;
    char *frame;  // compressed_capacity() bytes
    char *copy;   // kBlockBytes, for kSourceVolatile blocks
};

struct BlockPipeline::Worker {
    BlockPipeline *p;
    Compressor c;
    rawthread::Thread thread;
};

namespace {

constexpr size_t kStack = 256 * 1024;
constexpr uint64_t kWriteback = 32 * 1024 * 1024;
constexpr int kWait = 0 | 128;  // FUTEX_WAIT_PRIVATE
constexpr int kWake = 1 | 128;  // FUTEX_WAKE_PRIVATE

uint32_t load(const volatile uint32_t &w) { return __atomic_load_n(&w, __ATOMIC_ACQUIRE); }
void wake_all(volatile uint32_t &w) { sys_futex(&w, kWake, 0x7fffffff, nullptr); }
void wait_while(volatile uint32_t &w, uint32_t v) { sys_futex(&w, kWait, v, nullptr); }

}  // namespace

void pipeline_worker(void *arg)
{
    auto *w = static_cast<BlockPipeline::Worker *>(arg);
    BlockPipeline &p = *w->p;
    for (;;) {
        // Read the counters before looking for work, so that a wake-up in between is seen
        // as a changed value by the futex wait.
        const uint32_t gen = load(p.generation_), written = load(p.written_);
        if (load(p.stopping_)) return;
        if (p.claim_and_compress(w->c)) continue;
        // Nothing to claim: the batch is done (wait for the next) or the window is full
        // (wait for a write). Both move `written_` or `generation_`.
        if (load(p.next_) >= load(p.n_)) wait_while(p.generation_, gen);
        else wait_while(p.written_, written);
    }
}

bool BlockPipeline::start(Arena &arena, int level, int threads)
{
    level_ = level;
    if (threads < 1) threads = 1;
    if (threads > kMaxThreads) threads = kMaxThreads;
    if (level == 0) threads = 1;  // a checksum is not worth a thread
    n_slots_ = uint32_t(threads) * 2 + 2;
    slots_ = arena.alloc<Slot>(n_slots_);
    if (!slots_) return false;
    for (uint32_t i = 0; i < n_slots_; ++i) {
        slots_[i].ready = 0;
        slots_[i].frame = level ? arena.alloc<char>(compressed_capacity()) : nullptr;
        slots_[i].copy = arena.alloc<char>(kBlockBytes);
        if ((level && !slots_[i].frame) || !slots_[i].copy) return false;
    }
    if (level) {
        void *ws = arena.alloc<uint64_t>(compressor_workspace(level) / 8 + 1);
        if (!ws || !own_.init(ws, compressor_workspace(level), level)) return false;
    }
    generation_ = 0;  // one store each: chained assignments through volatile are deprecated
    next_ = 0;
    written_ = 0;
    published_ = 0;
    stopping_ = 0;
    n_ = 0;
    in_ = nullptr;
    n_threads_ = 1;
    workers_ = threads > 1 ? arena.alloc<Worker>(size_t(threads - 1)) : nullptr;
    for (int i = 0; i + 1 < threads; ++i) {
        Worker &w = workers_[i];
        w.p = this;
        w.thread.tid = 0;
        void *ws = arena.alloc<uint64_t>(compressor_workspace(level) / 8 + 1);
        char *stack = arena.alloc<char>(kStack);
        if (!ws || !stack || !w.c.init(ws, compressor_workspace(level), level)) break;
        if (rawthread::start(w.thread, pipeline_worker, &w, stack, kStack) < 0) break;
        ++n_threads_;
    }
    return true;
}

void BlockPipeline::stop()
{
    if (!workers_) return;
    __atomic_store_n(&stopping_, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&generation_, 1, __ATOMIC_RELEASE);
    wake_all(generation_);
    wake_all(written_);
    for (int i = 0; i + 1 < n_threads_; ++i) rawthread::join(workers_[i].thread);
    workers_ = nullptr;
    n_threads_ = 1;
}

// Claims the next block if its slot is free, and makes it ready: checksum, then the codec.
bool BlockPipeline::claim_and_compress(Compressor &c)
{
    uint32_t i = load(next_);
    for (;;) {
        if (i >= load(n_) || i >= load(written_) + n_slots_) return false;
        if (__atomic_compare_exchange_n(&next_, &i, i + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) break;
    }
    const BlockSource &b = in_[i];
    Slot &s = slots_[i % n_slots_];
    const char *src = b.src;
    if (b.flags & kSourceVolatile) {
        for (uint32_t k = 0; k < b.raw; ++k) s.copy[k] = src[k];
        src = s.copy;
    }
    s.checksum = checksum(src, b.raw);
    if (level_) {
        const uint64_t t0 = sys_monotonic_ns();
        s.codec = c.compress(src, b.raw, s.frame, s.stored);
        __atomic_add_fetch(&compress_ns_, sys_monotonic_ns() - t0, __ATOMIC_RELAXED);
    } else {
        s.codec = image::BlockCodec::Raw;
        s.stored = b.raw;
    }
    __atomic_store_n(&s.ready, i + 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&published_, 1, __ATOMIC_RELEASE);
    wake_all(published_);
    return true;
}

int64_t BlockPipeline::run(int fd, const BlockSource *in, image::BlockRecord *out, size_t n, uint64_t offset)
{
    // A new batch: slots and counters start over (the previous batch was written in full, so
    // no worker holds a block of it).
    for (uint32_t i = 0; i < n_slots_; ++i) slots_[i].ready = 0;
    in_ = in;
    out_ = out;
    __atomic_store_n(&n_, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&written_, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&published_, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&next_, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&n_, uint32_t(n), __ATOMIC_RELEASE);
    __atomic_add_fetch(&generation_, 1, __ATOMIC_RELEASE);
    wake_all(generation_);
    uint64_t writeback_from = offset;
    int64_t result = int64_t(offset);
    for (uint32_t w = 0; w < n; ++w) {
        Slot &s = slots_[w % n_slots_];
        while (load(s.ready) != w + 1) {
            const uint32_t seen = load(published_);
            if (load(s.ready) == w + 1) break;
            if (!claim_and_compress(own_)) wait_while(published_, seen);
        }
        const BlockSource &b = in[w];
        const char *bytes = s.codec == image::BlockCodec::Zstd ? s.frame : (b.flags & kSourceVolatile) ? s.copy : b.src;
        long rc = sys_pwrite_all(fd, bytes, s.stored, offset);
        if (rc < 0) {
            result = rc;  // the rest is not written (the caller abandons the image)
        }
        image::BlockRecord &r = out[w];
        r.stored_offset = offset;
        r.stored_size = s.stored;
        r.raw_size = b.raw;
        r.codec = s.codec;
        r.pad = 0;
        r.checksum = s.checksum;
        raw_bytes_ += b.raw;
        stored_bytes_ += s.stored;
        offset += s.stored;
        __atomic_store_n(&written_, w + 1, __ATOMIC_RELEASE);
        wake_all(written_);
        if (rc < 0) break;
        // Start writeback every kWriteback bytes, so the disk works while memory is still
        // being compressed and the final fsync is short.
        if (offset - writeback_from >= kWriteback) {
            RAW4(SYS_sync_file_range, fd, writeback_from, offset - writeback_from, 2 /* SYNC_FILE_RANGE_WRITE */);
            writeback_from = offset;
        }
    }
    // No worker may still be compressing a block of this batch when run() returns (the
    // caller may re-protect the source, or abandon it after a failed write): no claim
    // succeeds after next_ is moved out of reach (a claimer's compare-exchange fails), and
    // the claims made before are waited for.
    __atomic_store_n(&n_, 0, __ATOMIC_RELEASE);
    uint32_t claimed = __atomic_exchange_n(&next_, 0xffffffffu, __ATOMIC_ACQ_REL);
    if (claimed > n) claimed = uint32_t(n);
    for (;;) {
        const uint32_t seen = load(published_);
        if (seen >= claimed) break;
        wait_while(published_, seen);
    }
    in_ = nullptr;
    if (result >= 0) result = int64_t(offset);
    return result;
}

}  // namespace ckpt::codec
