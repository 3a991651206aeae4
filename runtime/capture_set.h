// Everything one checkpoint collects before it is written: the metadata of the image, built
// in an arena inside the checkpoint handler. Each kind of state fills its part
// (memory_capture, fd_table, signal_state, process_info); image_writer lays it out on disk.
#pragma once

#include "arena.h"
#include "image_format.h"
#include "text.h"

namespace ckpt {

// Why a checkpoint could not be taken: errno-style code and a short static reason.
struct CaptureError {
    int err = 0;
    const char *what = nullptr;
    char detail[80] = {};  // e.g. the descriptor or file concerned
    uint64_t bytes = 0;    // disk full: the space the image needed
    explicit operator bool() const { return what != nullptr; }
};

class StringTable {
public:
    bool init(Arena &a, size_t cap) { return chars_.init(a, cap); }
    image::StrRef add(const char *s, size_t n)
    {
        size_t at = chars_.size();
        for (size_t i = 0; i < n; ++i) {
            char *c = chars_.push();
            if (!c) return image::kNoString;
            *c = s[i];
        }
        char *z = chars_.push();
        if (!z) return image::kNoString;
        *z = 0;
        return image::StrRef(at);
    }
    image::StrRef add(const char *s) { return add(s, text::length(s)); }
    const char *data() const { return chars_.data(); }
    size_t size() const { return chars_.size(); }

private:
    ArenaVector<char> chars_;
};

struct CaptureSet {
    Arena arena;
    image::ProcessRecord process{};
    ArenaVector<image::RegionRecord> regions;
    ArenaVector<image::PageRun> runs;
    ArenaVector<image::FdRecord> fds;
    ArenaVector<image::SigactionRecord> sigactions;
    StringTable strings;
    char *scratch = nullptr;  // one large buffer for /proc reads
    size_t scratch_size = 0;
    uint64_t t_start_ns = 0;  // CLOCK_MONOTONIC at handler entry

    bool init()
    {
        if (!arena.open()) return false;
        scratch_size = size_t(8) << 20;
        scratch = arena.alloc<char>(scratch_size);
        return scratch && regions.init(arena, 1 << 16) && runs.init(arena, 4u << 20) &&
               fds.init(arena, 1 << 16) && sigactions.init(arena, 64) &&
               strings.init(arena, size_t(16) << 20);
    }
};

}  // namespace ckpt
