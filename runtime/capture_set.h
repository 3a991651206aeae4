// Everything one checkpoint collects before it is written: the metadata of the image, built
// in an arena inside the checkpoint handler. Each kind of state fills its part
// (memory_capture, fd_table, signal_state, process_info); image_writer lays it out on disk.
#pragma once

#include "arena.h"
#include "image_format.h"
#include "text.h"
#include "write_tracker.h"

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

// The descriptor section as it goes into the image (image::FdCommon): records one after the
// other, each a multiple of 8 bytes, and where each starts.
class FdSection {
public:
    bool init(Arena &a, size_t max_records, size_t max_words)
    {
        return words_.init(a, max_words) && starts_.init(a, max_records) && index_.init(a, max_records);
    }
    // Room for a record of at most `max_bytes`; end_record() gives it its real size.
    image::FdCommon *begin_record(uint32_t max_bytes)
    {
        at_ = words_.size();
        for (uint32_t i = 0; i < max_bytes / 8; ++i)
            if (!words_.push()) { words_.truncate(at_); return nullptr; }
        if (!starts_.push()) { words_.truncate(at_); return nullptr; }
        starts_.truncate(starts_.size() - 1);
        return reinterpret_cast<image::FdCommon *>(&words_[at_]);
    }
    // Returns the record's index.
    size_t end_record(uint32_t bytes)
    {
        words_.truncate(at_ + bytes / 8);
        *starts_.push() = uint32_t(at_);
        return starts_.size() - 1;
    }
    size_t size() const { return starts_.size(); }
    image::FdCommon &operator[](size_t i) const { return *reinterpret_cast<image::FdCommon *>(&words_[starts_[i]]); }
    // Pointers to every record, in order (rebuilt by each call).
    const image::FdCommon *const *index()
    {
        index_.truncate(0);
        for (size_t i = 0; i < size(); ++i) *index_.push() = &(*this)[i];
        return index_.data();
    }
    const void *bytes() const { return words_.data(); }
    size_t byte_size() const { return words_.size() * 8; }

private:
    ArenaVector<uint64_t> words_;
    ArenaVector<uint32_t> starts_;
    ArenaVector<const image::FdCommon *> index_;
    size_t at_ = 0;
};

struct CaptureSet {
    Arena arena;
    image::ProcessRecord process{};
    ArenaVector<image::RegionRecord> regions;
    ArenaVector<image::PageRun> runs;
    FdSection fds;
    ArenaVector<image::SigactionRecord> sigactions;
    ArenaVector<image::ThreadRecord> threads;  // filled from runtime/threads.h
    StringTable strings;
    char *attrs = nullptr;  // the process-attributes section (process_attrs.h)
    size_t attrs_size = 0;
    image::WorldRecord world{};
    char *scratch = nullptr;  // one large buffer for /proc reads
    size_t scratch_size = 0;
    uint64_t t_start_ns = 0;  // CLOCK_MONOTONIC at handler entry
    // When the program went on (CLOCK_MONOTONIC): the forked writer's fork; 0 while the
    // program waits for the whole write (the synchronous writer).
    uint64_t t_resumed_ns = 0;
    // Page data compression (compress/block_codec.h): the zstd level (0: raw) and the threads
    // that compress, the writing one included.
    int compress_level = 0;
    int writer_threads = 1;
    uint64_t fork_ns = 0;  // the clone of a forked writer (0: synchronous)
    // The program's /proc/self/maps at the fork, for the forked writer's check of its view.
    char *program_maps = nullptr;
    size_t program_maps_len = 0;
    // What the write tracker found at the snapshot instant (memory_capture marks the runs it
    // may inherit from the parent image).
    write_tracker::Changes changes;
    // The parent of an incremental image (image_chain.h); all 0 for a full one.
    struct Chain {
        uint64_t parent_version = 0, parent_checksum = 0;
        uint32_t depth = 0;               // 1 + the parent's
        uint64_t increment_bytes = 0;     // image bytes of the chain's increments before this one
        uint64_t pages_inherited = 0;
    } chain;
    // Pages left out because the program excluded them (memory_exclusion.h).
    uint64_t pages_excluded = 0;

    bool init()
    {
        if (!arena.open()) return false;
        scratch_size = size_t(8) << 20;
        scratch = arena.alloc<char>(scratch_size);
        return scratch && regions.init(arena, 1 << 16) && runs.init(arena, 4u << 20) &&
               fds.init(arena, 1 << 16, size_t(1) << 22) && sigactions.init(arena, 64) &&
               threads.init(arena, image::kMaxImageThreads) &&
               strings.init(arena, size_t(16) << 20) && changes.init(arena);
    }
};

}  // namespace ckpt
