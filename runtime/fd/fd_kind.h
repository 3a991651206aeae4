// The descriptor-kind table: every kind of open descriptor ckpt meets is one KindOps, in its
// own file (kind_*.cpp), with classify, capture, restore, verify and describe side by side.
// A kind that an image can hold has an image::FdKind tag and a record (image::FdCommon +
// payload); a refused kind has only `matches` and the reason, and a checkpoint that meets it
// is refused with a message naming the descriptor.
//
// Where each part runs:
//   matches, capture   the checkpoint signal handler: async-signal-safe, raw syscalls, no
//                      allocation (the payload goes into a buffer the caller owns)
//   restore            finish_restore in the restored process (libc allowed, used sparingly)
//   verify             the restorer, before it tears anything down (also raw syscalls, so
//                      that the kind files link into libckpt and ckpt_image alike)
//   describe           ckptctl inspect
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "image_format.h"
#include "text.h"

namespace ckpt::fd {

// What the capture knows about one descriptor when it classifies it.
struct Probe {
    int fd;
    const struct stat *st;
    const char *link;     // the /proc/self/fd/N text, NUL-terminated
    size_t link_len;
    uint32_t open_flags;  // F_GETFL
    bool standard;        // 0-2, not pointed by the program at a regular file of its own
    bool inherited;       // found open at start (standalone) and not reopenable
};

// Everything restore needs besides its own record: the whole section (a self-pipe places
// both ends at once), the string table, and the two ways out.
struct RestoreContext {
    const image::FdCommon *const *records;
    size_t n;
    const char *strings;
    void (*warn)(const char *text);
    // The descriptor cannot be restored exactly (its file was replaced): says so and ends the
    // restored process (exit 79, as verify would have). Does not return.
    void (*refuse)(const char *text);

    const char *path(const image::FdCommon &c) const
    {
        return c.path == image::kNoString ? "" : strings + c.path;
    }
};

enum class Verdict { Ok, Missing, Changed };

struct KindOps {
    image::FdKind kind;  // the image tag (meaningless for a refused kind)
    const char *name;    // for ckptctl inspect and messages
    // Is this descriptor of this kind? The table is searched in order; the first match wins.
    bool (*matches)(const Probe &p);
    // Refused kinds: why, e.g. "is a socket (not supported yet)"; nullptr for kept kinds.
    const char *refusal;
    // Can the object be found again by path? (What a standalone program inherited and that is
    // not reopenable is kept as Inherited instead of refusing the checkpoint.)
    bool reopenable;
    // Fills the kind's payload (at most `cap` bytes, `size` set); may refuse (returns why).
    const char *(*capture)(const Probe &p, void *payload, uint32_t cap, uint32_t &size);
    // After every descriptor is captured: a refusal that needs the others (a pipe end whose
    // other end is in another process). May be null.
    const char *(*check_set)(const image::FdCommon *const *records, size_t n, size_t i);
    // Places the descriptor of record i at its number (only records that do not share an
    // earlier record's open file description get here; those are dups of it).
    void (*restore)(const RestoreContext &ctx, size_t i);
    // Before the restore: is the object still there and the same? `why` says what is wrong.
    Verdict (*verify)(const image::FdCommon &c, const void *payload, const char *path, text::Builder &why);
    // One line for ckptctl inspect: what the record holds beyond the common fields.
    void (*describe)(const image::FdCommon &c, const void *payload, text::Builder &out);
    // After every descriptor is placed: what refers to other descriptors by number (an epoll
    // instance's interest list). May be null.
    void (*rearm)(const RestoreContext &ctx, size_t i) = nullptr;
    // The smallest payload restore reads (the image reader refuses a shorter record).
    uint32_t min_payload = 0;
};

// The kind of a descriptor (never null: the last entry matches everything and refuses it).
const KindOps &classify(const Probe &p);
// The kind of an image record; null for a tag this build does not know.
const KindOps *kind_ops(image::FdKind kind);

// The payload that follows a record's common fields.
inline const void *payload_of(const image::FdCommon &c) { return &c + 1; }
inline uint32_t record_size_for(uint32_t payload_size) { return (uint32_t(sizeof(image::FdCommon)) + payload_size + 7u) & ~7u; }

// Shared by the kinds that reopen by path: the description's flags for openat.
int reopen_flags(uint32_t open_flags);
// dup3 of `from` onto the record's number (closing `from` if it was a temporary), with the
// record's close-on-exec and the status flags F_SETFL can set.
void place(long from, const image::FdCommon &c, bool close_from);
// A device number as the kernel prints it in /proc (fdinfo `sdev:`: major << 20 | minor) in
// the encoding of struct stat's st_dev.
uint64_t stat_dev_from_kernel(uint64_t kdev);
// An anonymous-inode descriptor of this name ("anon_inode:[eventfd]", "anon_inode:inotify").
bool is_anon(const Probe &p, const char *name);
// Verify of the kinds that make a new kernel object at a restore: nothing to check.
Verdict verify_nothing(const image::FdCommon &c, const void *payload, const char *path, text::Builder &why);
// Adds the name of a file type (S_IFIFO, ...) to `out`.
void add_file_type(text::Builder &out, uint32_t st_mode);
// describe() of a kind whose payload is an FdOriginPayload: `before`, the origin's file type
// (or "descriptor" if the record has none), `after`.
void describe_origin(const image::FdCommon &c, const void *payload, const char *before, const char *after,
                     text::Builder &out);

}  // namespace ckpt::fd
