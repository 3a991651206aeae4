// Backtraces of the threads in an image, for `ckptctl inspect`: libunwind in a remote address
// space whose accessors read the image's own memory (saved pages from the image, the rest of
// file-backed regions from their files), starting from the registers in each thread's
// signal frame; symbols from the symbol tables of the mapped ELF files.
#pragma once

#include <string>
#include <vector>

#include "image_reader.h"

namespace ckptctl {

struct Frame {
    uint64_t ip = 0;
    std::string function;  // empty when no symbol covers ip
    uint64_t offset = 0;   // ip - the function's start
    std::string module;    // path of the mapped file, empty for anonymous memory
};

// Innermost first, at most `max_frames`; empty when the thread has no signal frame recorded.
std::vector<Frame> thread_backtrace(const ckpt::Image &img, const ckpt::image::ThreadRecord &t, size_t max_frames = 32);

}  // namespace ckptctl
