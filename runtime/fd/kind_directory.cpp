// A directory (openat's dirfd, a readdir in progress): reopened by path, the same directory.
#include <fcntl.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {

long reopen_same_object(const RestoreContext &ctx, const image::FdCommon &c, const char *what);
Verdict verify_same_object(const image::FdCommon &c, const void *, const char *path, text::Builder &why);

namespace {

bool matches(const Probe &p) { return S_ISDIR(p.st->st_mode); }

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    long fd = reopen_same_object(ctx, c, "directory");
    if (fd < 0) return;
    place(fd, c, true);
    // A readdir position is a cookie of the file system: valid for the same directory.
    if (c.offset > 0) sys_lseek(c.fd, c.offset, SEEK_SET);
}

void describe(const image::FdCommon &c, const void *, text::Builder &out)
{
    out.add("inode ").add(c.ino).add(", reopened by path");
}

}  // namespace

extern const KindOps kDirectory = {image::FdKind::Directory, "directory", matches, nullptr, true, nullptr, nullptr,
                                   restore, verify_same_object, describe};

}  // namespace ckpt::fd
