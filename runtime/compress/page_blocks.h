// The page data of an image as blocks (image_format.h, format 6): every region's saved runs
// cut into blocks of at most kBlockPages pages, in run order, never across a run (nor, so,
// across a region), then checksummed, compressed or kept raw, and written one after the
// other by a BlockPipeline. Runs inherited from a parent image (kRunInherited) have no block.
// Async-signal-safe (the checkpoint handler and the forked writer).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "compress/block_pipeline.h"
#include "image_format.h"

namespace ckpt::codec {

// Blocks the region's runs need.
size_t count_blocks(const image::RegionRecord &r, const image::PageRun *runs);

// The region's blocks as pipeline sources (at most count_blocks()); `volatile_src`: the
// region's bytes change while they are written (the writer's own stack).
size_t block_sources(const image::RegionRecord &r, const image::PageRun *runs, bool volatile_src, BlockSource *out);

struct PageBlocksResult {
    int64_t end = 0;        // image offset after the last block, or -errno
    uint32_t n_blocks = 0;
    uint64_t pages = 0;     // pages stored
};

// Writes the page data of regions[0, n) from `offset` (blocks[] has room for the sum of
// count_blocks()), setting each region's first_block, n_blocks, data_offset (its first
// block's offset) and data_checksum (0: the blocks have theirs). An unreadable region
// (PROT_NONE, write-only) is made readable for its write and given its protection back.
// `here`: an address on the calling thread's stack.
PageBlocksResult write_page_blocks(BlockPipeline &pipe, int fd, uint64_t offset, image::RegionRecord *regions,
                                   size_t n, const image::PageRun *runs, BlockSource *scratch,
                                   image::BlockRecord *blocks, uint64_t here);

}  // namespace ckpt::codec
