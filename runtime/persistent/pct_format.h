// The persistent checkpoint table (PCT) on disk: one append-only log per epoch, written by the
// runtime inside the program (raw system calls, no allocation) and read by the launcher's
// recovery, ckptctl and the tests. Epoch K = the changes made after version K was committed
// (epoch 0: from program start until version 1). docs/persistent-state.md describes the same.
//
//   JOB/pct-00000K.log        FileHeader, then records back to back (each 8-byte aligned)
//   JOB/undo-00000K/<id>      whole files kept for REMOVED records (hard link or copy)
//   JOB/pct-00000K.progress   recovery's progress through that log (ProgressRecord)
//
// A record is:  RecordHeader | path NUL | path2 NUL | pad to 8 | old data | pad to 8.
// header_checksum covers the header (with that field zero) and both paths; data_checksum the
// old data. A record counts only if all of its bytes are in the file and its header checksum
// holds: a torn tail (the process died while appending: fewer bytes than a whole record) is
// ignored, which is safe because the change a record protects starts only after the record is
// complete (write-ahead). A record that is all there but fails its checksum is damage.
//
// Chaining (what makes a missing or truncated log detectable): before the image of version N is
// committed, the runtime appends a Seal to the log of the epoch that ends and starts
// pct-N.log (kLogStarted, prev_nonce = the sealed log's nonce); the image then says so
// (ProcessRecord::flags & kProcEpochLog). So: a log an image started must exist; a log that
// the next log names as its predecessor must end with its Seal.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::pct {

inline constexpr char kFileMagic[8] = {'C', 'K', 'P', 'T', 'P', 'C', 'T', '\0'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kRecordMagic = 0x52544350;   // "PCTR"
inline constexpr uint32_t kProgressMagic = 0x474f5250; // "PROG"
inline constexpr uint64_t kMaxDataChunk = 1u << 20;    // old data per DATA record
inline constexpr uint32_t kMaxPath = 4096;

struct FileHeader {
    char magic[8];
    uint32_t format_version;
    uint32_t header_size;      // sizeof(FileHeader)
    uint64_t epoch;
    uint64_t nonce;            // identifies this log instance (progress files refer to it)
    int32_t pid;
    uint32_t flags;            // kLogSyncUndo: written with --sync-undo
    uint64_t created_realtime_ns;  // kLogStarted: the created_realtime_ns of the image that started it
    uint64_t prev_nonce;       // kLogStarted: nonce of the previous epoch's log, sealed just before
    uint64_t checksum;         // XXH3-64 of this struct with this field zero
};
static_assert(sizeof(FileHeader) == 64);

inline constexpr uint32_t kLogSyncUndo = 1;
// Started by the checkpoint that made version `epoch`, before its image was committed: a
// committed image whose ProcessRecord says kProcEpochLog vouches that this log exists.
inline constexpr uint32_t kLogStarted = 2;
// Written by a recovery that undid the epoch: the epoch starts again, empty.
inline constexpr uint32_t kLogReset = 4;

enum class Kind : uint16_t {
    Meta = 1,        // first change to a file/dir in the epoch: old size, mode, owner, times
    Data = 2,        // old bytes [offset, offset+length) of a file, inline
    Create = 3,      // path did not exist (file, dir, link, symlink): undo = remove it
    Removed = 4,     // path was unlinked or replaced: old object kept as undo-K/<undo_id>
    Rename = 5,      // path -> path2 (ino = the moved object): undo = rename back
    Rmdir = 6,       // empty directory removed: undo = mkdir with the old mode/owner/times
    Exclude = 7,     // ckpt_exclude(path) called in this epoch (path = pattern)
    Include = 8,     // ckpt_include(path)
    Unprotected = 9, // path changed without undo data (on-undo-failure=proceed); err = errno
    Seal = 10,       // the epoch ends: written before the image of the next version; offset = own offset
};

enum RecordFlags : uint16_t {
    kDir = 1,            // the object is a directory
    kSymlink = 2,        // the object is a symbolic link
    kPathInUndoDir = 4,  // path is relative to undo-K/ (a removed file still written to)
    kExchange = 8,       // Rename: RENAME_EXCHANGE
    kCopied = 16,        // Removed: undo-K/<id> is a copy (other file system), not a link
    kKeptChecksum = 32,  // Removed: data_checksum = XXH3-64 of the kept object (file bytes, symlink target)
};

struct RecordHeader {
    uint32_t magic;         // kRecordMagic
    uint16_t kind;          // Kind
    uint16_t flags;         // RecordFlags
    uint32_t record_size;   // all bytes of the record, multiple of 8
    uint16_t path_len;      // without the NUL
    uint16_t path2_len;
    uint64_t seq;           // 0, 1, 2, ... within the log
    int64_t offset;         // Data: file offset of the old bytes
    uint64_t length;        // Data: bytes of old data in the record
    uint64_t undo_id;       // Removed: name of the kept object in undo-K/
    uint64_t size;          // Meta: old size
    uint32_t mode, uid, gid;
    int32_t err;            // Unprotected: errno of the failed recording
    int64_t atime_ns, mtime_ns;
    uint64_t dev, ino;      // identity of the object (informational; Rename: moved object)
    uint64_t data_checksum; // XXH3-64 of the old data (Data), of the kept object (Removed, kKeptChecksum)
    uint64_t reserved;
    uint64_t header_checksum;
};
static_assert(sizeof(RecordHeader) == 128);

struct ProgressRecord {
    uint32_t magic;   // kProgressMagic
    uint32_t pad;
    uint64_t epoch;
    uint64_t nonce;   // FileHeader::nonce of the log it refers to
    uint64_t done;    // records undone, counted from the end of the log
    uint64_t checksum;
};

inline constexpr uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t(7); }

// Offset of the old data inside a record.
inline constexpr uint64_t data_offset_in_record(uint32_t path_len, uint32_t path2_len)
{
    return align8(sizeof(RecordHeader) + path_len + 1 + path2_len + 1);
}

inline constexpr uint64_t record_size(uint32_t path_len, uint32_t path2_len, uint64_t data_len)
{
    return align8(data_offset_in_record(path_len, path2_len) + data_len);
}

inline const char *kind_name(uint16_t k)
{
    switch (Kind(k)) {
    case Kind::Meta: return "meta";
    case Kind::Data: return "data";
    case Kind::Create: return "create";
    case Kind::Removed: return "removed";
    case Kind::Rename: return "rename";
    case Kind::Rmdir: return "rmdir";
    case Kind::Exclude: return "exclude";
    case Kind::Include: return "include";
    case Kind::Unprotected: return "unprotected";
    case Kind::Seal: return "seal";
    }
    return "unknown";
}

// "pct-000042.log", "undo-000042", "pct-000042.progress" (6 digits, like the images).
inline void epoch_name(char *out, size_t cap, const char *prefix, uint64_t epoch, const char *suffix)
{
    size_t n = 0;
    auto put = [&](char c) { if (n + 1 < cap) out[n++] = c; };
    for (const char *p = prefix; *p; ++p) put(*p);
    char digits[24];
    int d = 0;
    uint64_t v = epoch;
    do { digits[d++] = char('0' + v % 10); v /= 10; } while (v);
    for (int i = d; i < 6; ++i) put('0');
    while (d) put(digits[--d]);
    for (const char *p = suffix; *p; ++p) put(*p);
    out[n] = 0;
}

}  // namespace ckpt::pct
