// Character devices: terminals (TCGETS answers) and the rest (/dev/null, /dev/urandom, ...),
// reopened by path. A terminal that is gone becomes /dev/null; the device found under the
// name is not compared (a new terminal session gets a new pts with the same name).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

bool is_terminal(int fd)
{
    struct termios t;
    return RAW3(SYS_ioctl, fd, TCGETS, &t) == 0;
}

bool matches_terminal(const Probe &p) { return S_ISCHR(p.st->st_mode) && p.link[0] == '/' && is_terminal(p.fd); }
bool matches_device(const Probe &p) { return S_ISCHR(p.st->st_mode) && p.link[0] == '/'; }

void restore_common(const RestoreContext &ctx, size_t i, bool terminal)
{
    const image::FdCommon &c = *ctx.records[i];
    const char *path = ctx.path(c);
    long fd = sys_openat(AT_FDCWD, path, reopen_flags(c.open_flags) | O_CLOEXEC | O_NOCTTY, 0);
    if (fd < 0 && terminal) fd = sys_openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        char msg[88];
        text::Builder(msg, sizeof msg).add("cannot reopen fd ").add(uint64_t(c.fd)).add(": ").add(path);
        ctx.warn(msg);
        return;
    }
    place(fd, c, true);
}

void restore_terminal(const RestoreContext &ctx, size_t i) { restore_common(ctx, i, true); }
void restore_device(const RestoreContext &ctx, size_t i) { restore_common(ctx, i, false); }

Verdict verify_terminal(const image::FdCommon &, const void *, const char *, text::Builder &) { return Verdict::Ok; }

Verdict verify_device(const image::FdCommon &c, const void *, const char *path, text::Builder &why)
{
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, path, &st, 0) == 0) return Verdict::Ok;
    why.add("the program had ").add(path).add(" open as fd ").add(uint64_t(c.fd)).add(", and it no longer exists");
    return Verdict::Missing;
}

void describe_terminal(const image::FdCommon &, const void *, text::Builder &out)
{
    out.add("reopened by path (/dev/null if gone)");
}
void describe_device(const image::FdCommon &, const void *, text::Builder &out) { out.add("reopened by path"); }

}  // namespace

extern const KindOps kTerminal = {image::FdKind::Terminal, "terminal", matches_terminal, nullptr, true, nullptr,
                                  nullptr, restore_terminal, verify_terminal, describe_terminal};
extern const KindOps kCharDevice = {image::FdKind::CharDevice, "chardev", matches_device, nullptr, true, nullptr,
                                    nullptr, restore_device, verify_device, describe_device};

}  // namespace ckpt::fd
