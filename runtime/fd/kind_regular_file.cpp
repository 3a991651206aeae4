// A regular file that still exists under its name: reopened by path with its flags and
// offset; the file found there must be the one the program had open (device and inode).
#include <fcntl.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

bool matches(const Probe &p) { return S_ISREG(p.st->st_mode) && p.link[0] == '/'; }

// Reopens the record's path and checks that it is the recorded object; -1 after a warning
// (not found), refuses (does not return) when another file is there now.
long reopen_same(const RestoreContext &ctx, const image::FdCommon &c, const char *what)
{
    const char *path = ctx.path(c);
    long fd = sys_openat(AT_FDCWD, path, reopen_flags(c.open_flags) | O_CLOEXEC | O_NOCTTY, 0);
    char msg[160];
    if (fd < 0) {
        text::Builder(msg, sizeof msg).add("cannot reopen fd ").add(uint64_t(c.fd)).add(": ").add(path);
        ctx.warn(msg);
        return -1;
    }
    struct stat st;
    if (sys_fstat(int(fd), &st) != 0 || uint64_t(st.st_dev) != c.dev || uint64_t(st.st_ino) != c.ino) {
        sys_close(int(fd));
        // The path last: a long one is cut (88-byte status messages), the words are not.
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": ").add(what)
            .add(" replaced since the checkpoint, not reopened: ").add(path);
        ctx.refuse(msg);
    }
    return fd;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    long fd = reopen_same(ctx, c, "file");
    if (fd < 0) return;
    place(fd, c, true);
    if (c.offset > 0) sys_lseek(c.fd, c.offset, SEEK_SET);
}

}  // namespace

// Shared with kind_directory.cpp.
long reopen_same_object(const RestoreContext &ctx, const image::FdCommon &c, const char *what)
{
    return reopen_same(ctx, c, what);
}

Verdict verify_same_object(const image::FdCommon &c, const void *, const char *path, text::Builder &why)
{
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, path, &st, 0) != 0) {
        why.add("the program had ").add(path).add(" open as fd ").add(uint64_t(c.fd)).add(", and it no longer exists");
        return Verdict::Missing;
    }
    if (uint64_t(st.st_dev) != c.dev || uint64_t(st.st_ino) != c.ino) {
        why.add("the program had ").add(path).add(" open as fd ").add(uint64_t(c.fd))
            .add(", and it is now a different file (inode ").add(uint64_t(st.st_ino)).add(", was ").add(c.ino).add(")");
        return Verdict::Changed;
    }
    return Verdict::Ok;
}

namespace {
void describe(const image::FdCommon &c, const void *, text::Builder &out)
{
    out.add("inode ").add(c.ino).add(", reopened by path");
}
}  // namespace

extern const KindOps kRegularFile = {image::FdKind::RegularFile, "file", matches, nullptr, true, nullptr, nullptr,
                                     restore, verify_same_object, describe};

}  // namespace ckpt::fd
