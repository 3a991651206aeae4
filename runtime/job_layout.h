// What ckpt keeps in a job directory, and the only ways it creates and removes one. Shared by
// the launcher (ckpt-run, ckptctl) and the runtime (standalone mode); raw system calls only.
//
// A job directory is ckpt's own only if it carries the marker `.ckpt-job` (written when ckpt
// creates the directory, before the directory gets its name: see create_job_dir). Clean-up
// removes only the names below, never follows a symbolic link (a link with such a name is
// unlinked itself), and leaves everything else where it is; the directory is then kept.
//
//   .ckpt-job                 the marker: kMarkerText (a magic line and the format version)
//   ckpt-NNNNNN.img           committed versions      .ckpt-NNNNNN.img.tmp  one being written
//   pct-NNNNNN.log            epoch logs              pct-NNNNNN.progress   recovery progress
//   pct-NNNNNN.log.reset      an undone epoch's empty log, before it replaces the old one
//   undo-NNNNNN/              kept files, named by number (nothing else is removed in there)
//   grow-NNNNNN.map           the program's own growth of the files it changed (growth_format.h)
//   lock  status  .status.tmp  .probe  .protected-PID
//   lineage  .lineage.tmp     a rollback's retirement of newer versions, while it is under way
//                             (runtime/persistent/lineage.h)
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include "sys/raw_syscall.h"
#include "sys/safe_path.h"

namespace ckpt::layout {

inline constexpr const char kMarkerName[] = ".ckpt-job";
inline constexpr const char kMarkerText[] = "ckpt job directory\nformat 1\n";
inline constexpr size_t kMarkerLen = sizeof kMarkerText - 1;

enum class Entry { Foreign, Image, ImageTemp, PctLog, PctLogTemp, PctProgress, UndoDir, GrowthMap, Lock, Status, StatusTemp, Probe,
                   Protected, Marker, Lineage, LineageTemp };

namespace detail {
inline bool eq(const char *a, const char *b)
{
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}
// name = prefix DIGITS suffix, at least one digit.
inline bool numbered(const char *name, const char *prefix, const char *suffix)
{
    while (*prefix)
        if (*name++ != *prefix++) return false;
    const char *d = name;
    while (*name >= '0' && *name <= '9') ++name;
    return name > d && eq(name, suffix);
}
}  // namespace detail

inline Entry classify(const char *n)
{
    using detail::eq;
    using detail::numbered;
    if (numbered(n, "ckpt-", ".img")) return Entry::Image;
    if (numbered(n, ".ckpt-", ".img.tmp")) return Entry::ImageTemp;
    if (numbered(n, "pct-", ".log")) return Entry::PctLog;
    if (numbered(n, "pct-", ".log.reset")) return Entry::PctLogTemp;  // an undone epoch's fresh log
    if (numbered(n, "pct-", ".progress")) return Entry::PctProgress;
    if (numbered(n, "undo-", "")) return Entry::UndoDir;
    if (numbered(n, "grow-", ".map")) return Entry::GrowthMap;
    if (numbered(n, ".protected-", "")) return Entry::Protected;
    if (eq(n, "lock")) return Entry::Lock;
    if (eq(n, "status")) return Entry::Status;
    if (eq(n, ".status.tmp")) return Entry::StatusTemp;
    if (eq(n, ".probe")) return Entry::Probe;
    if (eq(n, kMarkerName)) return Entry::Marker;
    if (eq(n, "lineage")) return Entry::Lineage;
    if (eq(n, ".lineage.tmp")) return Entry::LineageTemp;
    return Entry::Foreign;
}

// A file kept in undo-K/: its undo id.
inline int is_undo_entry(const char *n) { return detail::numbered(n, "", "") ? 1 : 0; }

// 1: the directory at `dirfd` carries the marker (a regular file, not a link, with the text);
// 0: it does not; < 0: -errno (e.g. -EACCES).
inline long has_marker(int dirfd)
{
    long fd = open_beneath(dirfd, kMarkerName, O_RDONLY | O_NONBLOCK);
    if (fd == -2 /* ENOENT */ || fd == -40 /* ELOOP */) return 0;
    if (fd < 0) return fd;
    struct stat st;
    char buf[64];
    long n = 0;
    if (sys_fstat(int(fd), &st) == 0 && S_ISREG(st.st_mode)) n = sys_read(int(fd), buf, sizeof buf);
    sys_close(int(fd));
    if (n != long(kMarkerLen)) return 0;
    for (size_t i = 0; i < kMarkerLen; ++i)
        if (buf[i] != kMarkerText[i]) return 0;
    return 1;
}

// Creates job directory `name` in `rootfd` with its marker already inside: the directory is
// made under a temporary name (.ckpt-new-PID, marker written with O_EXCL|O_NOFOLLOW) and
// renamed into place without replacing anything, so that a directory of that name either
// does not exist or is one ckpt made. Returns 0, or -EEXIST when `name` exists (made by
// someone else, or by a launcher racing with us), or -errno.
inline long create_job_dir(int rootfd, const char *name)
{
    char tmp[48];
    {
        const char prefix[] = ".ckpt-new-";
        size_t n = 0;
        for (const char *p = prefix; *p; ++p) tmp[n++] = *p;
        char digits[24];
        int d = 0;
        for (unsigned long v = (unsigned long)sys_getpid(); d == 0 || v; v /= 10) digits[d++] = char('0' + v % 10);
        while (d) tmp[n++] = digits[--d];
        tmp[n] = 0;
    }
    sys_unlinkat(rootfd, tmp, 0);  // a leftover of a launcher that died here with our pid
    if (long fd = open_beneath(rootfd, tmp, O_RDONLY | O_DIRECTORY); fd >= 0) {
        if (has_marker(int(fd)) == 1) sys_unlinkat(int(fd), kMarkerName, 0);
        sys_close(int(fd));
        sys_unlinkat(rootfd, tmp, 0x200 /* AT_REMOVEDIR */);
    }
    long r = RAW3(SYS_mkdirat, rootfd, tmp, 0700);
    if (r < 0) return r;
    long dfd = open_beneath(rootfd, tmp, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) return dfd;
    long mfd = open_beneath(int(dfd), kMarkerName, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (mfd >= 0) {
        r = sys_write(int(mfd), kMarkerText, kMarkerLen) == long(kMarkerLen) ? 0 : -5 /* EIO */;
        sys_close(int(mfd));
    } else {
        r = mfd;
    }
    if (r == 0) r = RAW5(SYS_renameat2, rootfd, tmp, rootfd, name, 1 /* RENAME_NOREPLACE */);
    if (r != 0) {
        sys_unlinkat(int(dfd), kMarkerName, 0);
        sys_unlinkat(rootfd, tmp, 0x200);
    }
    sys_close(int(dfd));
    if (r == 0) sys_fsync(rootfd);
    return r;
}

// Called for each name clean-up leaves in place ("notes.txt", "undo-000003/x").
using LeftFn = void (*)(const char *dir, const char *name, void *ctx);

namespace detail {
// Unlinks every entry of `dirfd` for which `ours` says 1 (never a directory); reports those
// for which it says 0 and the ones that could not be unlinked; 2: not looked at here.
template <class Ours>
inline long remove_entries(int dirfd, const char *where, Ours ours, LeftFn left, void *ctx)
{
    long fd = sys_openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    long kept = 0;
    char buf[4096];
    for (;;) {
        long n = sys_getdents64(int(fd), buf, sizeof buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
            off += d->d_reclen;
            if (eq(d->d_name, ".") || eq(d->d_name, "..")) continue;
            const int what = ours(d->d_name);
            if (what == 2) continue;
            if (what == 0 || sys_unlinkat(dirfd, d->d_name, 0) != 0) {
                ++kept;
                if (left) left(where, d->d_name, ctx);
            }
        }
    }
    sys_close(int(fd));
    return kept;
}
}  // namespace detail

// Empties undo-K/ (`name` in `jobfd`) of the files ckpt kept there and removes it; a link
// named undo-K is unlinked itself. Returns the number of entries left (then it stays).
inline long remove_undo_dir(int jobfd, const char *name, LeftFn left = nullptr, void *ctx = nullptr)
{
    long ufd = open_beneath(jobfd, name, O_RDONLY | O_DIRECTORY);
    if (ufd == -2) return 0;
    if (ufd < 0) {  // not a directory (a planted link or file): the name goes, nothing it points at
        if (sys_unlinkat(jobfd, name, 0) == 0) return 0;
        if (left) left("", name, ctx);
        return 1;
    }
    long kept = detail::remove_entries(int(ufd), name, is_undo_entry, left, ctx);
    sys_close(int(ufd));
    if (kept == 0 && sys_unlinkat(jobfd, name, 0x200 /* AT_REMOVEDIR */) != 0) kept = 1;
    return kept;
}

// Removes what ckpt wrote in the job directory `jobfd`, then (if nothing else was left) the
// marker and the directory itself (`name` in `rootfd`; rootfd < 0: the directory stays).
// Returns the number of names left in place (each reported to `left`), or -errno.
inline long remove_job_dir(int rootfd, const char *name, int jobfd, LeftFn left = nullptr, void *ctx = nullptr)
{
    long kept = 0;
    // Undo directories first (their entries are reported below them), then the files.
    long fd = sys_openat(jobfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    char buf[4096];
    for (;;) {
        long n = sys_getdents64(int(fd), buf, sizeof buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
            off += d->d_reclen;
            if (classify(d->d_name) == Entry::UndoDir) kept += remove_undo_dir(jobfd, d->d_name, left, ctx);
        }
    }
    sys_close(int(fd));
    kept += detail::remove_entries(
        jobfd, "",
        [](const char *n) {
            const Entry e = classify(n);
            return e == Entry::Foreign ? 0 : e == Entry::UndoDir || e == Entry::Marker ? 2 : 1;
        },
        left, ctx);
    if (kept) return kept;  // the marker stays: the directory is still ckpt's, and not empty
    sys_unlinkat(jobfd, kMarkerName, 0);
    if (rootfd >= 0 && sys_unlinkat(rootfd, name, 0x200) != 0) return 1;
    return 0;
}

}  // namespace ckpt::layout
