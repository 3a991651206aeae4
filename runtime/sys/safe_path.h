// Opening paths without being led elsewhere by a symbolic link someone else planted. Raw
// system calls only: usable in the checkpoint signal handler and in the launcher alike.
//
//   open_beneath()   a name inside a directory held by descriptor, never following a link
//                    (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS; openat O_NOFOLLOW where
//                    openat2 is missing, which is the same for the single names ckpt uses);
//   open_dir_path()  an absolute directory path walked one component at a time from "/",
//                    creating missing components (mode 0700) with mkdirat; a component that
//                    is a symbolic link is followed only when the link belongs to the caller
//                    or to root (the rule of fs.protected_symlinks, applied everywhere), and
//                    its target is walked the same way;
//   dir_trust()      the StrictModes-like check of a directory held by descriptor.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include "raw_syscall.h"

namespace ckpt {

namespace safe_path_detail {
struct OpenHow {
    uint64_t flags, mode, resolve;
};
inline constexpr uint64_t kResolveNoSymlinks = 0x04;  // RESOLVE_NO_SYMLINKS
inline constexpr uint64_t kResolveBeneath = 0x08;     // RESOLVE_BENEATH
inline int openat2_missing = 0;                        // set once openat2 returned ENOSYS
}  // namespace safe_path_detail

// `name` relative to `dirfd`, never through a symbolic link (ELOOP), never above dirfd.
// O_NOFOLLOW and O_CLOEXEC are always added. Returns the descriptor or -errno.
static inline long open_beneath(int dirfd, const char *name, int flags, int mode = 0)
{
    using namespace safe_path_detail;
    flags |= O_NOFOLLOW | O_CLOEXEC;
    if (!__atomic_load_n(&openat2_missing, __ATOMIC_RELAXED)) {
        OpenHow how{uint64_t(unsigned(flags)), (flags & O_CREAT) ? uint64_t(unsigned(mode)) : 0,
                    kResolveBeneath | kResolveNoSymlinks};
        long fd = RAW4(437 /* SYS_openat2 */, dirfd, name, &how, sizeof how);
        if (fd != -38 /* ENOSYS */ && fd != -1 /* EPERM: a seccomp filter */) return fd;
        if (fd == -38) __atomic_store_n(&openat2_missing, 1, __ATOMIC_RELAXED);
    }
    return sys_openat(dirfd, name, flags, mode);
}

// Why open_dir_path() failed, for a message: the errno, and the path up to the component
// concerned; `link_uid` is the owner of a symbolic link it refused to follow (else -1).
struct PathFailure {
    int err = 0;
    long link_uid = -1;
    char at[4096] = {};
};

namespace safe_path_detail {

static inline void note(PathFailure *f, int err, const char *path, size_t len, long link_uid = -1)
{
    if (!f) return;
    f->err = err;
    f->link_uid = link_uid;
    size_t n = len < sizeof f->at - 1 ? len : sizeof f->at - 1;
    for (size_t i = 0; i < n; ++i) f->at[i] = path[i];
    f->at[n] = 0;
}

// Components are opened with O_PATH: a directory one may only pass through (mode 0711, like
// many home directories) is walked as the kernel would.
inline constexpr int kWalkFlags = 010000000 /* O_PATH */ | O_DIRECTORY | O_CLOEXEC;

// Walks `path` from `start` (a directory descriptor, consumed). Returns the final directory's
// descriptor or -errno.
static inline long walk(long start, const char *path, bool create, int links_left, PathFailure *fail)
{
    long fd = start;
    const char *p = path;
    char comp[256];
    while (*p) {
        while (*p == '/') ++p;
        if (!*p) break;
        size_t n = 0;
        while (*p && *p != '/') {
            if (n + 1 >= sizeof comp) { sys_close(int(fd)); note(fail, 36 /* ENAMETOOLONG */, path, size_t(p - path)); return -36; }
            comp[n++] = *p++;
        }
        comp[n] = 0;
        if (n == 1 && comp[0] == '.') continue;
        long next = sys_openat(int(fd), comp, kWalkFlags | O_NOFOLLOW, 0);
        if (next == -2 /* ENOENT */ && create) {
            long r = RAW3(SYS_mkdirat, fd, comp, 0700);
            if (r < 0 && r != -17 /* EEXIST */) { sys_close(int(fd)); note(fail, int(-r), path, size_t(p - path)); return r; }
            next = sys_openat(int(fd), comp, kWalkFlags | O_NOFOLLOW, 0);
        }
        if (next == -40 /* ELOOP */ || next == -20 /* ENOTDIR */) {
            struct stat st;
            if (sys_newfstatat(int(fd), comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                const long euid = RAW0(SYS_geteuid);
                if ((long(st.st_uid) != euid && st.st_uid != 0) || links_left <= 0) {
                    sys_close(int(fd));
                    note(fail, 40 /* ELOOP */, path, size_t(p - path), links_left <= 0 ? -1 : long(st.st_uid));
                    return -40;
                }
                char target[4096];
                long len = sys_readlinkat(int(fd), comp, target, sizeof target - 1);
                if (len < 0) { sys_close(int(fd)); note(fail, int(-len), path, size_t(p - path)); return len; }
                target[len] = 0;
                long from = target[0] == '/' ? sys_openat(-100 /* AT_FDCWD */, "/", kWalkFlags, 0)
                                             : sys_openat(int(fd), ".", kWalkFlags, 0);
                if (from < 0) { sys_close(int(fd)); note(fail, int(-from), path, size_t(p - path)); return from; }
                next = walk(from, target, create, links_left - 1, fail);
                if (next >= 0) {  // walk() returns a readable descriptor where it can: back to O_PATH
                    long again = sys_openat(int(next), ".", kWalkFlags, 0);
                    sys_close(int(next));
                    next = again;
                }
                if (next < 0) {
                    sys_close(int(fd));
                    if (fail && fail->link_uid < 0) note(fail, int(-next), path, size_t(p - path));
                    return next;
                }
            }
        }
        sys_close(int(fd));
        if (next < 0) { note(fail, int(-next), path, size_t(p - path)); return next; }
        fd = next;
    }
    // Readable where the caller may read it (to list it); else the O_PATH descriptor, which
    // still serves as the directory of openat(), mkdirat(), unlinkat() and fstat().
    long readable = sys_openat(int(fd), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (readable < 0) return fd;
    sys_close(int(fd));
    return readable;
}

}  // namespace safe_path_detail

// Opens (and with `create`, makes) the directory at absolute `path` as described above.
static inline long open_dir_path(const char *path, bool create, PathFailure *fail = nullptr)
{
    long root = sys_openat(-100 /* AT_FDCWD */, "/", safe_path_detail::kWalkFlags, 0);
    if (root < 0) return root;
    return safe_path_detail::walk(root, path, create, 8, fail);
}

// A directory ckpt may keep job data in: owned by the caller or by root, and not writable by
// group or others unless the sticky bit keeps them from replacing what is not theirs.
enum class DirTrust { Ok, ForeignOwner, Writable, Error };
static inline DirTrust dir_trust(int fd, struct stat &st)
{
    if (sys_fstat(fd, &st) != 0) return DirTrust::Error;
    const long euid = RAW0(SYS_geteuid);
    if (long(st.st_uid) != euid && st.st_uid != 0) return DirTrust::ForeignOwner;
    if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)) return DirTrust::Writable;
    return DirTrust::Ok;
}

}  // namespace ckpt
