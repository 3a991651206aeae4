#include "image_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>

#include "checksum.h"
#include "compress/page_blocks.h"
#include "sys/raw_syscall.h"
#include "sys/safe_path.h"

namespace ckpt {
namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }


CaptureError fail(int err, const char *what)
{
    CaptureError e;
    e.err = err;
    e.what = what;
    return e;
}

}  // namespace

void image_file_name(uint64_t version, char *out, size_t cap)
{
    text::Builder(out, cap).add("ckpt-").add(version, 6).add(".img");
}

int64_t latest_version(int dirfd, char *buf, size_t size)
{
    long fd = sys_openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    int64_t best = 0;
    for (;;) {
        long n = sys_getdents64(int(fd), buf, size);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
            off += d->d_reclen;
            const char *name = d->d_name;
            size_t len = text::length(name);
            if (len < 10 || !text::starts_with(name, len, "ckpt-") || !text::equal(name + len - 4, ".img"))
                continue;
            const char *p = name + 5, *end = name + len - 4;
            uint64_t v;
            if (text::parse_u64(p, end, v) && p == end && int64_t(v) > best) best = int64_t(v);
        }
    }
    sys_close(int(fd));
    return best;
}

CaptureError write_image(CaptureSet &set, int dirfd, uint64_t version, WriteResult &result)
{
    using namespace image;
    const uint64_t t_write = sys_monotonic_ns();

    // Layout: header page, metadata, then page data of each region, page-aligned.
    const uint64_t regions_off = align_up(sizeof(ProcessRecord), 16);
    const uint64_t runs_off = align_up(regions_off + set.regions.size() * sizeof(RegionRecord), 16);
    const uint64_t fds_off = align_up(runs_off + set.runs.size() * sizeof(PageRun), 16);
    const uint64_t sig_off = align_up(fds_off + set.fds.byte_size(), 16);
    const uint64_t str_off = align_up(sig_off + set.sigactions.size() * sizeof(SigactionRecord), 16);
    const uint64_t attrs_off = align_up(str_off + set.strings.size(), 16);
    const uint64_t world_off = align_up(attrs_off + set.attrs_size, 16);
    const uint64_t thr_off = align_up(world_off + sizeof(WorldRecord), 16);
    // Format 6: the page data as blocks (compress/page_blocks.h), their table and the stats.
    size_t n_blocks = 0;
    for (size_t i = 0; i < set.regions.size(); ++i) n_blocks += codec::count_blocks(set.regions[i], set.runs.data());
    const uint64_t blocks_off = align_up(thr_off + set.threads.size() * sizeof(ThreadRecord), 16);
    const uint64_t stats_off = align_up(blocks_off + n_blocks * sizeof(BlockRecord), 16);
    const uint64_t meta_size = stats_off + sizeof(CheckpointStats);
    const uint64_t meta_offset = kPageSize;
    const uint64_t data_offset = align_up(meta_offset + meta_size, kPageSize);
    uint64_t raw_size = 0;
    for (size_t i = 0; i < set.regions.size(); ++i) raw_size += set.regions[i].data_pages * kPageSize;
    // The most the image can take (every block raw); compressed, it ends earlier.
    uint64_t image_size = data_offset + raw_size;

    char tmp_name[64], final_name[64];
    text::Builder(tmp_name, sizeof tmp_name).add(".ckpt-").add(version, 6).add(".img.tmp");
    image_file_name(version, final_name, sizeof final_name);
    // Always a new file: a leftover (or a link planted under the name) is unlinked, never
    // written through.
    sys_unlinkat(dirfd, tmp_name, 0);
    long fd = open_beneath(dirfd, tmp_name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return fail(int(-fd), "cannot create the image file");
    RAW2(SYS_fchmod, fd, 0600);  // exactly 0600 whatever the umask: readers refuse anything else
    codec::BlockPipeline pipe;
    auto abandon = [&](long rc, const char *what) {
        pipe.stop();
        sys_close(int(fd));
        sys_unlinkat(dirfd, tmp_name, 0);
        CaptureError e = fail(int(-rc), what);
        if (rc == -28 /* ENOSPC */ || rc == -122 /* EDQUOT */) {
            // The launcher names the directory and the space free; without one, stderr says this.
            e.bytes = image_size;
            text::Builder(e.detail, sizeof e.detail).add("the image needs ").add(image_size).add(" bytes");
        }
        return e;
    };
    // Reserve the space first (for raw blocks): a full disk is found before a gigabyte has
    // been written. The file is cut to its real end once the blocks are written.
    long rc = RAW4(SYS_fallocate, fd, 0, 0, image_size);
    if (rc < 0 && rc != -95 /* EOPNOTSUPP */) return abandon(rc, "cannot reserve space for the image");
    rc = 0;

    BlockRecord *blocks = set.arena.alloc<BlockRecord>(n_blocks ? n_blocks : 1);
    codec::BlockSource *sources = set.arena.alloc<codec::BlockSource>(n_blocks ? n_blocks : 1);
    if (!blocks || !sources || !pipe.start(set.arena, set.compress_level, set.writer_threads))
        return abandon(-12, "out of memory for the image writer");
    uint64_t here_var = 0;
    const uint64_t here = reinterpret_cast<uint64_t>(&here_var);
    const codec::PageBlocksResult written =
        codec::write_page_blocks(pipe, int(fd), data_offset, set.regions.data(), set.regions.size(), set.runs.data(),
                                 sources, blocks, here);
    const int threads_used = pipe.threads();
    pipe.stop();
    if (written.end < 0) return abandon(written.end, "cannot write the image");
    const uint64_t pages_written = written.pages;
    const uint64_t data_size = uint64_t(written.end) - data_offset;
    if (uint64_t(written.end) < image_size) {
        rc = sys_ftruncate(int(fd), int64_t(written.end));
        if (rc < 0) return abandon(rc, "cannot write the image");
    }
    image_size = uint64_t(written.end);
    bool compressed = false;
    for (size_t i = 0; i < n_blocks; ++i) compressed = compressed || blocks[i].codec != BlockCodec::Raw;
    const uint64_t t_meta = sys_monotonic_ns();
    set.process.stats.write_ns = t_meta - t_write;
    set.process.stats.pages_written = pages_written;
    set.process.checkpoint_version = version;

    // Metadata, assembled in the arena, then the header that makes the image valid.
    char *meta = set.arena.alloc<char>(meta_size);
    if (!meta) return abandon(-12, "out of memory for the image metadata");
    for (uint64_t i = 0; i < meta_size; ++i) meta[i] = 0;
    auto put = [&](uint64_t at, const void *src, uint64_t n) {
        const char *s = static_cast<const char *>(src);
        for (uint64_t i = 0; i < n; ++i) meta[at + i] = s[i];
    };
    // The sync is still to come: the recorded pause covers everything before it, and the
    // launcher hears the full figure in its status message. A forked writer's program went
    // on at the fork.
    set.process.stats.pause_ns = (set.t_resumed_ns ? set.t_resumed_ns : t_meta) - set.t_start_ns;
    put(0, &set.process, sizeof(ProcessRecord));
    put(regions_off, set.regions.data(), set.regions.size() * sizeof(RegionRecord));
    put(runs_off, set.runs.data(), set.runs.size() * sizeof(PageRun));
    put(fds_off, set.fds.bytes(), set.fds.byte_size());
    put(sig_off, set.sigactions.data(), set.sigactions.size() * sizeof(SigactionRecord));
    put(thr_off, set.threads.data(), set.threads.size() * sizeof(ThreadRecord));
    put(str_off, set.strings.data(), set.strings.size());
    put(attrs_off, set.attrs, set.attrs_size);
    put(world_off, &set.world, sizeof(WorldRecord));
    put(blocks_off, blocks, n_blocks * sizeof(BlockRecord));
    // What this checkpoint cost, as far as it is known before the header and the sync.
    CheckpointStats st{};
    st.record_size = sizeof st;
    st.writer_threads = uint32_t(threads_used);
    for (size_t i = 0; i < set.threads.size(); ++i)
        if (set.threads[i].flags & kThreadCoordinator) st.stop_ns = set.threads[i].stop_ns;
    st.fork_ns = set.fork_ns;
    st.scan_ns = set.process.stats.scan_ns;
    st.pause_ns = set.process.stats.pause_ns;
    st.write_ns = set.process.stats.write_ns;
    st.compress_ns = pipe.compress_ns();
    st.total_ns = sys_monotonic_ns() - set.t_start_ns;
    st.pages_written = pages_written;
    st.pages_inherited = set.chain.pages_inherited;
    st.pages_excluded = set.pages_excluded;
    st.pages_present = pages_written + st.pages_inherited;
    st.raw_bytes = pipe.raw_bytes();
    st.stored_bytes = pipe.stored_bytes();
    put(stats_off, &st, sizeof st);
    rc = sys_pwrite_all(int(fd), meta, meta_size, meta_offset);
    if (rc < 0) return abandon(rc, "cannot write the image");

    ImageHeader h{};
    for (int i = 0; i < 8; ++i) h.magic[i] = kMagic[i];
    h.format_version = kFormatVersion;
    h.header_size = sizeof(ImageHeader);
    h.image_size = image_size;
    h.meta_offset = meta_offset;
    h.meta_size = meta_size;
    h.meta_checksum = checksum(meta, meta_size);
    h.data_offset = data_offset;
    h.data_size = data_size;
    h.regions_offset = regions_off;
    h.runs_offset = runs_off;
    h.fds_offset = fds_off;
    h.sigactions_offset = sig_off;
    h.strings_offset = str_off;
    h.n_regions = uint32_t(set.regions.size());
    h.n_runs = uint32_t(set.runs.size());
    h.n_fds = uint32_t(set.fds.size());
    h.n_sigactions = uint32_t(set.sigactions.size());
    h.strings_size = set.strings.size();
    h.attrs_offset = attrs_off;
    h.attrs_size = set.attrs_size;
    h.world_offset = world_off;
    h.world_size = sizeof(WorldRecord);
    h.threads_offset = thr_off;
    if (set.chain.parent_version) {  // incremental: the image its inherited runs refer to
        h.image_flags |= kImageIncremental;
        h.chain_depth = set.chain.depth;
        h.parent_version = set.chain.parent_version;
        h.parent_checksum = set.chain.parent_checksum;
    }
    h.n_threads = uint32_t(set.threads.size());
    h.thread_record_size = sizeof(ThreadRecord);
    h.blocks_offset = blocks_off;
    h.n_blocks = uint32_t(n_blocks);
    h.block_record_size = sizeof(BlockRecord);
    h.stats_offset = stats_off;
    h.stats_size = sizeof(CheckpointStats);
    h.image_flags |= (compressed ? kImageCompressed : 0u) | (set.t_resumed_ns ? kImageForked : 0u);
    h.header_checksum = 0;
    h.header_checksum = checksum(&h, sizeof h);

    // The header goes last, so that even the temp file is never a valid-looking torn image;
    // one fsync before the rename makes all of it durable before the name commits it.
    rc = sys_pwrite_all(int(fd), &h, sizeof h, 0);
    if (rc < 0) return abandon(rc, "cannot write the image header");
    rc = sys_fsync(int(fd));
    if (rc < 0) return abandon(rc, "cannot sync the image");
    sys_close(int(fd));
    rc = sys_renameat(dirfd, tmp_name, dirfd, final_name);
    if (rc < 0) { sys_unlinkat(dirfd, tmp_name, 0); return fail(int(-rc), "cannot commit the image"); }
    // From the rename on, the image is committed: it is visible now and may be the one a
    // recovery picks after a crash, so the epoch must switch to it (its log was started and
    // synced before). A failed directory sync only means the name may not survive a crash,
    // and then recovery picks the previous version and undoes the new epoch's log as well
    // (every epoch >= the restored version is undone): consistent either way. Reported as a
    // warning, not as a failed checkpoint.
    rc = sys_fsync(dirfd);
    if (rc == -EINTR) rc = sys_fsync(dirfd);
    if (rc < 0) result.dir_sync_err = int(-rc);
    set.process.stats.sync_ns = sys_monotonic_ns() - t_meta;
    result.bytes = image_size;
    return CaptureError{};
}

}  // namespace ckpt
