#include "paths.h"

#include <fcntl.h>

#include "../sys/raw_syscall.h"
#include "../text.h"
#include "pathmatch.h"
#include "rule_table.h"

namespace ckpt::persist {

char g_path[kPathBuf];
char g_path2[kPathBuf];
char g_norm[kPathBuf];
char g_tmp[kPathBuf];

bool absolute(int dirfd, const char *path, char *out, size_t cap)
{
    if (!path) return false;
    text::Builder b(out, cap);
    if (path[0] == '/') {
        b.add(path);
        return !b.overflow();
    }
    long n;
    if (dirfd == AT_FDCWD) {
        n = sys_getcwd(out, cap);
        if (n <= 0) return false;
        n = long(text::length(out));
    } else {
        char link[40];
        text::Builder(link, sizeof link).add("/proc/self/fd/").add(uint64_t(unsigned(dirfd)));
        n = sys_readlinkat(AT_FDCWD, link, out, cap - 1);
        if (n <= 0) return false;
        out[n] = 0;
    }
    text::Builder c(out + n, cap - size_t(n));
    if (n > 0 && out[n - 1] != '/') c.add("/");
    c.add(path);
    return !c.overflow();
}

bool path_excluded(const char *abs)
{
    text::Builder(g_norm, sizeof g_norm).add(abs);
    pathmatch::normalize(g_norm);
    return excluded(g_norm);
}

int fd_path(int fd, char *out, size_t cap)
{
    char link[40];
    text::Builder(link, sizeof link).add("/proc/self/fd/").add(uint64_t(unsigned(fd)));
    long n = sys_readlinkat(AT_FDCWD, link, out, cap - 1);
    if (n <= 0) return 0;
    out[n] = 0;
    if (out[0] != '/') return 0;
    static const char kDel[] = " (deleted)";
    const long dl = sizeof kDel - 1;
    if (n > dl && text::equal(out + n - dl, kDel)) return 2;
    return 1;
}

bool record_path_for_fd(int fd, const FileState *f, char *out, size_t cap, uint16_t &flags)
{
    int k = fd_path(fd, out, cap);
    if (k == 1) return true;
    if (k == 2 && f && f->undo_id) {
        text::Builder(out, cap).add(f->undo_id);
        flags |= pct::kPathInUndoDir;
        return true;
    }
    return false;
}

namespace {

// Does `p` start with `prefix`? Returns the rest, or null.
const char *after(const char *p, const char *prefix)
{
    while (*prefix)
        if (*p++ != *prefix++) return nullptr;
    return p;
}

const char *after_digits(const char *p)
{
    if (!p || *p < '0' || *p > '9') return nullptr;
    while (*p >= '0' && *p <= '9') ++p;
    return p;
}

// The descriptor number's part of a magic link path, or null if `p` is not one.
const char *fd_link_tail(const char *p)
{
    if (const char *r = after(p, "/dev/fd/")) return r;
    if (const char *r = after(p, "/proc/self/fd/")) return r;
    if (const char *r = after(p, "/proc/thread-self/fd/")) return r;
    if (const char *r = after_digits(after(p, "/proc/"))) return after(r, "/fd/");
    return nullptr;
}

}  // namespace

void resolve_fd_link(char *abs, size_t cap)
{
    text::Builder(g_norm, sizeof g_norm).add(abs);
    pathmatch::normalize(g_norm);
    const char *tail = fd_link_tail(g_norm);
    const char *end = after_digits(tail);
    if (!end || *end) return;  // not NAME/fd/<digits>
    char *target = g_tmp;  // not on the stack: wrappers may run on a small signal stack
    long n = sys_readlinkat(AT_FDCWD, g_norm, target, sizeof g_tmp - 1);
    if (n <= 0 || target[0] != '/') return;  // a pipe, a socket, an anon inode: not a file
    target[n] = 0;
    static const char kDel[] = " (deleted)";
    const long dl = sizeof kDel - 1;
    if (n > dl && text::equal(target + n - dl, kDel)) return;  // no name to record
    text::Builder b(abs, cap);
    b.add(target);
}

long lstat_at(int dirfd, const char *path, struct stat &st, bool follow)
{
    return sys_newfstatat(dirfd, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
}

}  // namespace ckpt::persist
