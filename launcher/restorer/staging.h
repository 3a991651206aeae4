// Single-pass loading of the image's page data, before anything is torn down: every region
// with pages in this image gets a staging mapping of its size at a free address, filled from
// the image block by block (decompressed where the block is compressed), each block checked
// against its checksum as it arrives, by several threads. The image is read once; a damaged
// block is found before the point of no return and costs nothing but the exit code.
//
// The blob then puts each staging mapping to use (plan_region.staged):
//   PLAN_STAGE_MOVE  private anonymous memory (heap, anonymous mappings, deleted files): the
//                    whole mapping is moved into place with one mremap, no copy; it stays one
//                    mapping (one VMA), and pages never saved stay unpopulated.
//   PLAN_STAGE_COPY  everything else: the stack (its mapping must be MAP_GROWSDOWN, which a
//                    moved staging mapping is not), shared anonymous memory (a staging
//                    mapping is private), and private file mappings, whose saved pages are
//                    the program's copy-on-write ones: the region is mapped from its file as
//                    before and only those pages are copied over, so that it stays file-backed
//                    (in /proc/PID/maps, and for the pages never written). The copy costs a
//                    pass over memory, and these regions are small as a rule.
#pragma once

#include <cstdint>
#include <vector>

#include "../../runtime/image_reader.h"

namespace ckpt::restorer {

struct Staging {
    uint64_t addr = 0, len = 0;  // 0: the region has no page in this image
    bool move = false;
};

// Whether the blob moves the staging mapping into place (else copies the saved pages).
bool stage_by_move(const image::RegionRecord &r);

// Loads img.regions[i]'s pages of this image into out[i] with `threads` threads, verifying
// every block; not those of a region whose `skip` is set (served lazily: lazy_loader.h). Staging mappings avoid the image's regions and [avoid_start, avoid_end).
// On failure nothing stays mapped and the status says what (ImageError::DataChecksum for a
// block that does not match, as verify_data would).
ImageStatus stage_pages(const Image &img, int image_fd, int threads, const std::vector<bool> &skip,
                        std::vector<Staging> &out);

void unstage(std::vector<Staging> &staged);

}  // namespace ckpt::restorer
