#include "block_loads.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../../runtime/checksum.h"

namespace ckpt::restorer {
namespace {

constexpr uint64_t kPage = image::kPageSize;
constexpr uint64_t kChunk = 1 << 20;  // raw reads, checksummed while still in the cache

// The blocks of this image, each mapped onto the pages of its region's runs (those of this
// image, in order: a block's raw bytes are the next pages of them).
void plan_block_loads(const Image &img, std::vector<BlockLoad> &loads, std::vector<BlockPiece> &pieces)
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
            BlockLoad l{};
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

}  // namespace

void plan_loads(const Image &img, std::vector<BlockLoad> &loads, std::vector<BlockPiece> &pieces)
{
    if (img.header.format_version >= 6) return plan_block_loads(img, loads, pieces);
    for (uint32_t i = 0; i < img.regions.size(); ++i) {
        const image::RegionRecord &r = img.regions[i];
        if (!r.data_pages) continue;
        BlockLoad l{};
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

BlockReader::BlockReader()
{
    frame_.resize(codec::compressed_capacity());
    raw_.resize(codec::kBlockBytes);
    dws_.resize(codec::decompressor_workspace() / 8 + 1);
    d_.init(dws_.data(), dws_.size() * 8);
}

std::string BlockReader::load(const BlockLoad &l, const std::vector<BlockPiece> &pieces, int fd, char *base)
{
    const image::BlockRecord &b = l.block;
    if (b.codec == image::BlockCodec::Raw) {
        // Straight into place, checksummed piece by piece while the bytes are in the cache.
        Checksum sum;
        uint64_t off = b.stored_offset;
        for (uint32_t k = 0; k < l.n_pieces; ++k) {
            const BlockPiece &p = pieces[l.first_piece + k];
            for (uint64_t done = 0; done < p.len; done += kChunk) {
                const uint64_t c = p.len - done < kChunk ? p.len - done : kChunk;
                if (pread_all(fd, base + p.dst + done, c, off) < 0) return kCannotRead;
                sum.update(base + p.dst + done, c);
                off += c;
            }
        }
        return sum.digest() == b.checksum ? "" : "does not match its checksum";
    }
    // One piece: decompressed in place; several: through a buffer and scattered.
    const bool direct = l.n_pieces == 1 && pieces[l.first_piece].len == b.raw_size;
    char *dst = direct ? base + pieces[l.first_piece].dst : raw_.data();
    if (std::string e = read_raw(b, fd, dst); !e.empty()) return e;
    if (!direct) {
        uint64_t from = 0;
        for (uint32_t k = 0; k < l.n_pieces; ++k) {
            const BlockPiece &p = pieces[l.first_piece + k];
            if (from + p.len > b.raw_size) return "does not cover its runs";
            std::memcpy(base + p.dst, dst + from, p.len);
            from += p.len;
        }
    }
    return "";
}

std::string BlockReader::read_raw(const image::BlockRecord &b, int fd, char *out)
{
    if (b.raw_size > codec::kBlockBytes) return "has an unknown encoding";
    if (b.codec == image::BlockCodec::Raw) {
        if (b.stored_size != b.raw_size) return "has an unknown encoding";
        if (pread_all(fd, out, b.raw_size, b.stored_offset) < 0) return kCannotRead;
    } else if (b.codec == image::BlockCodec::Zstd && b.stored_size <= frame_.size()) {
        if (pread_all(fd, frame_.data(), b.stored_size, b.stored_offset) < 0) return kCannotRead;
        if (!d_.decompress(frame_.data(), b.stored_size, out, b.raw_size)) return "cannot be decompressed";
    } else {
        return "has an unknown encoding";
    }
    return checksum(out, b.raw_size) == b.checksum ? "" : "does not match its checksum";
}

}  // namespace ckpt::restorer
