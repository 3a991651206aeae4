// Lazy restore (--lazy): the program runs again before its private anonymous memory is back.
// Those regions are mapped empty and registered with a userfaultfd (missing pages); a loader
// process serves each page the program touches from the image, block by block, checking the
// block's checksum before any of its pages is handed over (UFFDIO_COPY: the pages are the
// program's own anonymous memory, never a mapping of the image, so a later MADV_DONTNEED gives
// zeros), and streams in the rest meanwhile. Once every page is in, it closes the userfaultfd
// (the regions are ordinary memory again) and the descriptor that tells the runtime so.
//
// The program's own changes to its memory while the loader runs are followed through the
// userfaultfd's events: MADV_DONTNEED/REMOVE and munmap (those pages are never loaded: zeros),
// mremap (the pages are loaded where they went) and fork (the child's missing pages are
// served too). A block that fails its check after the program runs again cannot be undone:
// the loader tells the launcher (StatusType::LazyFailed), kills the program and its children
// and exits; the launcher goes on as for a damaged image (the previous version).
//
// The loader is a grandchild of the restorer, orphaned at once, so that it is the launcher's
// (the subreaper's) child and never one the program could wait for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../../runtime/image_reader.h"
#include "restore_chain.h"

namespace ckpt::restorer::lazy {

// Whether region r may be served lazily: private anonymous read-write memory (heap, anonymous
// mappings) with pages to load; the stack, shared and file-backed regions are loaded before.
bool eligible(const Image &img, const image::RegionRecord &r);

// The userfaultfd, ready to register (UFFDIO_API done with the events the loader needs), or
// -1 and why not: lazy restore then falls back to eager loading.
int open_userfaultfd(std::string &why);

struct Handles {
    int uffd = -1;     // the program's copy: the blob registers the regions and closes it
    int go_w = -1;     // the blob writes one byte once every region is registered, then closes it
    int done_r = -1;   // the runtime's: end of file once the loader has loaded every page
};

// Forks the loader for the regions marked in `lazy` (indices of img.regions), whose pages come
// from `sources`. `program` is this process's pid, `status_fd` the launcher's status socket
// (-1: none), `done_fd_at`: the descriptor number the runtime gets the done pipe at.
bool start(const Image &img, const ChainSources &sources, const std::vector<bool> &lazy, int uffd, int status_fd,
           int done_fd_at, Handles &out, std::string &why);

}  // namespace ckpt::restorer::lazy
