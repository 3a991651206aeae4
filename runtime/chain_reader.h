// Incremental images, the reading side: an image's chain of ancestors, read and checked link
// by link, and where the bytes of its inherited runs are. Used by the restorer (before it
// tears anything down), the launcher (a version is usable only if its chain is intact; pruning
// keeps what a kept version needs) and ckptctl. With libc; never in the checkpoint handler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image_reader.h"

namespace ckpt {

// Path of version `v` beside the image at `path` (same directory).
std::string sibling_image_path(const std::string &path, uint64_t v);

// The ancestors of `img`, parent first, each read with read_image (trusted like the image
// itself) and checked against its child: the version it names, the header checksum it
// recorded. A missing, unreadable, replaced or damaged link fails the whole chain
// (ImageError::ChainBroken): that version is not restorable.
ImageStatus read_chain(const Image &img, std::vector<Image> &ancestors);

// The versions `img` needs besides itself (its ancestors), read from their headers only; stops
// at the first link that cannot be read (what was found so far).
std::vector<uint64_t> chain_versions(const Image &img);

// One piece of a region's memory as a restore fills it: `n_pages` from `first_page` (of the
// region in chain[0]) come from chain[src] at file offset `offset`. Pages no piece covers are
// zero.
struct ChainPiece {
    uint64_t first_page, n_pages;
    uint32_t src;
    uint64_t offset;
};

// Resolves the saved pages of chain[0]'s regions (chain: the image, then its ancestors, as
// read_chain gives them): stored runs come from chain[0], inherited runs from the newest
// ancestor that stored those pages, or from nothing (zero pages an ancestor did not have).
class ChainResolver {
public:
    explicit ChainResolver(std::vector<const Image *> chain);
    // The pieces of region `region` of chain[0], in page order. False (why set) if an
    // inherited run reaches outside the memory of the ancestors or past the chain.
    bool resolve_region(size_t region, std::vector<ChainPiece> &out, std::string &why) const;

private:
    bool resolve_range(size_t level, uint64_t a, uint64_t b, uint64_t base, std::vector<ChainPiece> &out,
                       std::string &why) const;
    std::vector<const Image *> chain_;
    std::vector<std::vector<uint64_t>> run_offset_;  // per image, per run: where its stored pages are
};

}  // namespace ckpt
