// Incremental images in the restorer: the ancestors an image's inherited runs come from,
// opened and checked like the image itself, and each run of the plan resolved to a source
// slot (restore_plan::sources: 0 is the image, 1.. its ancestors, parent first) and an offset.
// Kept apart from the plan building so that other sources (a staging area) can join it.
#pragma once

#include <string>
#include <vector>

#include "chain_reader.h"
#include "restore_plan.h"

namespace ckpt::restorer {

struct ChainSources {
    std::vector<Image> ancestors;  // parent first
    std::vector<int> fds;          // the image's descriptor first, then one per ancestor
    // Per region of the image (special ones empty): its runs as the plan reads them.
    std::vector<std::vector<plan_run>> runs;
    size_t n_runs = 0;
};

// Reads and verifies the chain of `img` (read_chain, then every ancestor's page data), opens
// each ancestor (reopen_image: the file checked is the file read) and resolves the runs.
// `image_fd`: the image's own descriptor (slot 0). On failure returns an ImageStatus: the
// version is not restorable.
ImageStatus open_chain(const Image &img, int image_fd, ChainSources &out);

}  // namespace ckpt::restorer
