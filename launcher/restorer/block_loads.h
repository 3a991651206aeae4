// The stored blocks of an image and where their pages go, shared by the eager loader
// (staging.h) and the lazy one (lazy_loader.h): each block is a unit that is read, decompressed
// where it is compressed and checked against its checksum as a whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../../runtime/compress/block_codec.h"
#include "../../runtime/image_reader.h"

namespace ckpt::restorer {

// One stored block and the pieces of its region it fills, in order (a block may cover the end
// of one run and the start of the next): its raw bytes are the pieces' bytes one after the other.
struct BlockLoad {
    uint32_t region;
    image::BlockRecord block;
    uint32_t first_piece, n_pieces;
};
struct BlockPiece {
    uint64_t dst;  // offset in the region
    uint64_t len;
};

// Every stored block of the image (formats 1-5: one raw block per region, over its runs).
void plan_loads(const Image &img, std::vector<BlockLoad> &loads, std::vector<BlockPiece> &pieces);

ssize_t pread_all(int fd, char *dst, uint64_t len, uint64_t off);

// Buffers and a decompression context for one thread.
class BlockReader {
public:
    BlockReader();
    // Loads block `l` into `base` (the region's first byte: the pieces are offsets from it);
    // "" when it is in place and matches, else why not ("cannot read the image", ...).
    std::string load(const BlockLoad &l, const std::vector<BlockPiece> &pieces, int fd, char *base);
    // Reads a format-6 block's raw bytes (raw_size of them) into `out`, checked; "" or why not.
    std::string read_raw(const image::BlockRecord &b, int fd, char *out);

private:
    std::vector<char> frame_, raw_;
    std::vector<uint64_t> dws_;
    codec::Decompressor d_;
};

inline constexpr const char *kCannotRead = "cannot read the image";

}  // namespace ckpt::restorer
