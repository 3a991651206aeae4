// Restore of the descriptor table, in the restored process (finish_restore): each record by
// its kind (fd_kind.h); a record that shares an earlier one's open file description is a dup
// of that descriptor.
#include <fcntl.h>
#include <sys/mman.h>

#include "fd/fd_kind.h"
#include "fd/fd_table.h"
#include "status_protocol.h"
#include "sys/raw_syscall.h"

namespace ckpt {

void restore_fds(const void *section, size_t n, const char *strings, int keep_fd, int keep_also,
                 void (*warn)(const char *text), void (*refuse)(const char *text))
{
    // Close whatever the restorer had open beyond the standard streams and the status socket
    // (with the job's lock just below it, kLockFd), and `keep_also` above both (the lazy
    // loader's descriptor: above every descriptor of the image).
    const int keep_lo = keep_fd == kStatusFd ? kLockFd : keep_fd;
    if (keep_lo > 3) sys_close_range(3, unsigned(keep_lo - 1));
    const int above = keep_fd < 3 ? 3 : keep_fd + 1;
    if (keep_also >= above) {
        if (keep_also > above) sys_close_range(unsigned(above), unsigned(keep_also - 1));
        sys_close_range(unsigned(keep_also + 1), ~0u);
    } else {
        sys_close_range(unsigned(above), ~0u);
    }
    if (n == 0) return;

    // Where each record starts (the reader checked the sizes).
    const size_t index_bytes = n * sizeof(void *);
    void *mem = sys_mmap(nullptr, index_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reinterpret_cast<long>(mem) < 0 && reinterpret_cast<long>(mem) > -4096) {
        warn("out of memory: no descriptor was restored");
        return;
    }
    auto **records = static_cast<const image::FdCommon **>(mem);
    const char *at = static_cast<const char *>(section);
    for (size_t i = 0; i < n; ++i) {
        records[i] = reinterpret_cast<const image::FdCommon *>(at);
        at += records[i]->record_size;
    }
    const fd::RestoreContext ctx{records, n, strings, warn, refuse};
    for (size_t i = 0; i < n; ++i) {
        const image::FdCommon &c = *records[i];
        const fd::KindOps *kind = fd::kind_ops(c.kind);
        if (!kind) {
            char msg[88];
            text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": unknown descriptor kind ")
                .add(uint64_t(c.kind));
            warn(msg);
            continue;
        }
        // A descriptor of the launcher's stays the new launcher's, whatever it shared.
        if (c.kind != image::FdKind::Standard && c.shares_with < i) {
            fd::place(records[c.shares_with]->fd, c, false);
            continue;
        }
        kind->restore(ctx, i);
    }
    // What names other descriptors by number (epoll's interest list), once they are all back.
    for (size_t i = 0; i < n; ++i) {
        const fd::KindOps *kind = fd::kind_ops(records[i]->kind);
        if (kind && kind->rearm) kind->rearm(ctx, i);
    }
    sys_munmap(mem, index_bytes);
}

}  // namespace ckpt
