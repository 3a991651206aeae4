#include "staging.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "../../runtime/checksum.h"
#include "../../runtime/compress/block_codec.h"

namespace ckpt::restorer {
namespace {

constexpr uint64_t kPage = image::kPageSize;
constexpr uint64_t kTaskTop = (1ull << 47) - kPage;
constexpr uint64_t kChunk = 1 << 20;  // raw reads, checksummed while still in the cache

// One stored block and where its pages go: pieces of the staging mapping (a block may cover
// the end of one run and the start of the next).
struct Load {
    uint32_t region;
    image::BlockRecord block;
    uint32_t first_piece, n_pieces;
};
struct Piece {
    uint64_t dst;  // offset in the staging mapping
    uint64_t len;
};

bool overlaps_image(const Image &img, uint64_t start, uint64_t end)
{
    for (const auto &r : img.regions)
        if (r.start < end && start < r.end) return true;
    return false;
}

// A free range of `len` bytes outside every image region, mapped read-write.
uint64_t map_staging(const Image &img, uint64_t len)
{
    // Where the kernel would put it first; else scanned from the top down in 1 GiB steps.
    void *p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    uint64_t at = reinterpret_cast<uint64_t>(p);
    if (!overlaps_image(img, at, at + len)) return at;
    ::munmap(p, len);
    for (uint64_t hint = (kTaskTop - len) & ~((1ull << 30) - 1); hint > (1ull << 32); hint -= 1ull << 30) {
        if (overlaps_image(img, hint, hint + len)) continue;
        p = ::mmap(reinterpret_cast<void *>(hint), len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != MAP_FAILED) return reinterpret_cast<uint64_t>(p);
    }
    return 0;
}

// The blocks of this image, each mapped onto the pages of its region's runs (those of this
// image, in order: a block's raw bytes are the next pages of them).
void plan_block_loads(const Image &img, std::vector<Load> &loads, std::vector<Piece> &pieces)
{
    for (uint32_t i = 0; i < img.regions.size(); ++i) {
        const image::RegionRecord &r = img.regions[i];
        uint32_t k = 0;
        uint64_t in_run = 0;  // pages of run k already given to earlier blocks
        auto next_run = [&]() {
            while (k < r.n_runs && (img.runs[r.first_run + k].flags & image::kRunInherited)) ++k;
        };
        next_run();
        for (uint32_t j = 0; j < r.n_blocks; ++j) {
            Load l{};
            l.region = i;
            l.block = img.blocks[r.first_block + j];
            l.first_piece = uint32_t(pieces.size());
            uint64_t want = l.block.raw_size / kPage;
            while (want && k < r.n_runs) {
                const image::PageRun &run = img.runs[r.first_run + k];
                const uint64_t take = run.n_pages - in_run < want ? run.n_pages - in_run : want;
                pieces.push_back({(run.first_page + in_run) * kPage, take * kPage});
                want -= take;
                in_run += take;
                if (in_run == run.n_pages) {
                    ++k;
                    in_run = 0;
                    next_run();
                }
            }
            l.n_pieces = uint32_t(pieces.size()) - l.first_piece;
            loads.push_back(l);
        }
    }
}

// Formats 1-5: one raw block per region's stored data, over its runs.
void plan_loads(const Image &img, std::vector<Load> &loads, std::vector<Piece> &pieces)
{
    if (img.header.format_version >= 6) return plan_block_loads(img, loads, pieces);
    for (uint32_t i = 0; i < img.regions.size(); ++i) {
        const image::RegionRecord &r = img.regions[i];
        if (!r.data_pages) continue;
        Load l{};
        l.region = i;
        l.block.stored_offset = r.data_offset;
        l.block.stored_size = uint32_t(0);  // raw: the pieces say how much
        l.block.raw_size = 0;
        l.block.codec = image::BlockCodec::Raw;
        l.block.checksum = r.data_checksum;
        l.first_piece = uint32_t(pieces.size());
        for (uint32_t k = 0; k < r.n_runs; ++k) {
            const image::PageRun &run = img.runs[r.first_run + k];
            if (run.flags & image::kRunInherited) continue;  // in a parent image, not here
            pieces.push_back({run.first_page * kPage, uint64_t(run.n_pages) * kPage});
        }
        l.n_pieces = uint32_t(pieces.size()) - l.first_piece;
        loads.push_back(l);
    }
}

struct Worker {
    std::vector<char> frame, raw;
    std::vector<uint64_t> dws;
    codec::Decompressor d;
};

ssize_t pread_all(int fd, char *dst, uint64_t len, uint64_t off)
{
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = ::pread(fd, dst + done, len - done, off_t(off + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EIO;
        done += uint64_t(n);
    }
    return ssize_t(done);
}

// Loads one block; "" when it is in place and matches, else why not.
std::string load_one(const Load &l, const std::vector<Piece> &pieces, const Staging &s, int fd, Worker &w)
{
    const image::BlockRecord &b = l.block;
    char *base = reinterpret_cast<char *>(s.addr);
    if (b.codec == image::BlockCodec::Raw) {
        // Straight into place, checksummed piece by piece while the bytes are in the cache.
        Checksum sum;
        uint64_t off = b.stored_offset;
        for (uint32_t k = 0; k < l.n_pieces; ++k) {
            const Piece &p = pieces[l.first_piece + k];
            for (uint64_t done = 0; done < p.len; done += kChunk) {
                const uint64_t c = p.len - done < kChunk ? p.len - done : kChunk;
                if (pread_all(fd, base + p.dst + done, c, off) < 0) return "cannot read the image";
                sum.update(base + p.dst + done, c);
                off += c;
            }
        }
        return sum.digest() == b.checksum ? "" : "does not match its checksum";
    }
    if (b.codec != image::BlockCodec::Zstd || b.stored_size > w.frame.size() || b.raw_size > codec::kBlockBytes)
        return "has an unknown encoding";
    if (pread_all(fd, w.frame.data(), b.stored_size, b.stored_offset) < 0) return "cannot read the image";
    // One piece: decompressed in place; several: through a buffer and scattered.
    const bool direct = l.n_pieces == 1 && pieces[l.first_piece].len == b.raw_size;
    char *dst = direct ? base + pieces[l.first_piece].dst : w.raw.data();
    if (!w.d.decompress(w.frame.data(), b.stored_size, dst, b.raw_size)) return "cannot be decompressed";
    if (checksum(dst, b.raw_size) != b.checksum) return "does not match its checksum";
    if (!direct) {
        uint64_t from = 0;
        for (uint32_t k = 0; k < l.n_pieces; ++k) {
            const Piece &p = pieces[l.first_piece + k];
            if (from + p.len > b.raw_size) return "does not cover its runs";
            std::memcpy(base + p.dst, dst + from, p.len);
            from += p.len;
        }
    }
    return "";
}

}  // namespace

bool stage_by_move(const image::RegionRecord &r)
{
    return r.kind == image::RegionKind::Anonymous && !(r.flags & (image::kRegionShared | image::kRegionStack));
}

void unstage(std::vector<Staging> &staged)
{
    for (auto &s : staged)
        if (s.addr) ::munmap(reinterpret_cast<void *>(s.addr), s.len);
    staged.clear();
}

ImageStatus stage_pages(const Image &img, int image_fd, int threads, std::vector<Staging> &out)
{
    out.assign(img.regions.size(), Staging{});
    std::vector<Load> loads;
    std::vector<Piece> pieces;
    plan_loads(img, loads, pieces);
    for (const Load &l : loads) {
        const image::RegionRecord &r = img.regions[l.region];
        Staging &s = out[l.region];
        if (s.addr) continue;
        s.len = r.end - r.start;
        s.move = stage_by_move(r);
        s.addr = map_staging(img, s.len);
        if (!s.addr) {
            unstage(out);
            return {ImageError::Io, "no free address range to load the image's pages into"};
        }
        for (uint32_t k = 0; k < l.n_pieces; ++k)
            if (pieces[l.first_piece + k].dst + pieces[l.first_piece + k].len > s.len) {
                unstage(out);
                return {ImageError::BadLayout, img.path + ": a page run lies outside its region"};
            }
    }
    ::posix_fadvise(image_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::string why;
    size_t why_at = 0;
    std::atomic_flag why_taken = ATOMIC_FLAG_INIT;
    auto work = [&]() {
        Worker w;
        w.frame.resize(codec::compressed_capacity());
        w.raw.resize(codec::kBlockBytes);
        w.dws.resize(codec::decompressor_workspace() / 8 + 1);
        w.d.init(w.dws.data(), w.dws.size() * 8);
        for (;;) {
            const size_t i = next.fetch_add(1);
            if (i >= loads.size() || failed.load()) return;
            std::string e = load_one(loads[i], pieces, out[loads[i].region], image_fd, w);
            if (!e.empty() && !why_taken.test_and_set()) {
                why = e;
                why_at = i;
                failed.store(true);
            }
        }
    };
    if (threads < 1) threads = 1;
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && size_t(t) < loads.size(); ++t) pool.emplace_back(work);
    work();
    for (auto &t : pool) t.join();
    if (failed.load()) {
        const image::RegionRecord &r = img.regions[loads[why_at].region];
        char where[64];
        std::snprintf(where, sizeof where, "%#lx-%#lx", (unsigned long)r.start, (unsigned long)r.end);
        unstage(out);
        const bool io = why == "cannot read the image";
        return {io ? ImageError::Io : ImageError::DataChecksum,
                img.path + ": page data of region " + where + (io ? ": cannot be read" : " " + why)};
    }
    return {};
}

}  // namespace ckpt::restorer
