// A memfd: its contents, size, mode, seals and name, and the program's MAP_SHARED mappings of
// it, which must stay the same object as the descriptor after a restore.
//
// Capture: the contents go into the image as memory: the handler maps the memfd read-only
// and shared (contents_addr), the memory capture saves that region like any other and lets
// ckpt's copy and the program's mappings overlap (note_shared_mapping); the program's
// mappings are recorded in the payload and their pages are not saved a second time. After
// the image is written the copy is unmapped (end_fd_capture).
// Restore: a new memfd of the same name gets the contents from the restored copy (then
// unmapped), the program's mappings are mapped again from it at their addresses, then the
// seals are added (after the mappings: F_SEAL_FUTURE_WRITE keeps writable mappings that
// existed). A second open of the same memfd (not a dup) is reopened through /proc/self/fd.
// A hugetlbfs memfd is refused.
#include <fcntl.h>
#include <sys/mman.h>

#include "fd_kind.h"
#include "fd_table.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr long kHugetlbfsMagic = 0x958458f6;  // HUGETLBFS_MAGIC, linux/magic.h
constexpr unsigned kMfdCloexec = 1, kMfdAllowSealing = 2;
constexpr int kAddSeals = 1033, kGetSeals = 1034;  // F_ADD_SEALS, F_GET_SEALS
constexpr uint64_t kPage = 4096;

struct RawStatfs {
    long f_type;
    long rest[15];
};

// This checkpoint's memfds (the handler runs one checkpoint at a time).
struct Captured {
    uint64_t dev, ino;
    image::FdMemfdPayload *payload;  // in the capture set's descriptor section
    uint64_t contents, len;          // ckpt's read-only copy, unmapped by end_fd_capture
};
constexpr int kMaxCaptured = 64;
Captured g_captured[kMaxCaptured];
int g_n_captured;

uint64_t round_up(uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }

bool matches(const Probe &p) { return S_ISREG(p.st->st_mode) && text::starts_with(p.link, p.link_len, "/memfd:"); }

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdMemfdPayload)) return "has no room for its record";
    RawStatfs sfs{};
    if (RAW2(SYS_fstatfs, p.fd, &sfs) == 0 && sfs.f_type == kHugetlbfsMagic) return "a hugetlb memfd (not supported)";
    const long seals = sys_fcntl(p.fd, kGetSeals, 0);
    if (seals < 0) return "a memfd whose seals cannot be read";
    auto *o = static_cast<image::FdMemfdPayload *>(payload);
    *o = image::FdMemfdPayload{};
    o->size = uint64_t(p.st->st_size);
    o->seals = uint32_t(seals);
    o->mode = uint32_t(p.st->st_mode) & 07777;
    size = sizeof *o;
    for (int i = 0; i < g_n_captured; ++i)
        if (g_captured[i].dev == uint64_t(p.st->st_dev) && g_captured[i].ino == uint64_t(p.st->st_ino))
            return nullptr;  // another open of it holds the contents and the mappings
    if (g_n_captured == kMaxCaptured) return "one of too many memfds (not supported)";
    uint64_t addr = 0;
    if (o->size) {
        // Through a read-only descriptor of its own: the program's may be write-only.
        char path[48];
        text::Builder(path, sizeof path).add("/proc/self/fd/").add(uint64_t(p.fd));
        long rd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
        if (rd < 0) return "a memfd whose contents cannot be read";
        void *m = sys_mmap(nullptr, round_up(o->size), PROT_READ, MAP_SHARED, int(rd), 0);
        sys_close(int(rd));
        if (sys_is_err(reinterpret_cast<long>(m))) return "a memfd whose contents cannot be mapped";
        addr = reinterpret_cast<uint64_t>(m);
    }
    o->contents_addr = addr;
    g_captured[g_n_captured++] = {uint64_t(p.st->st_dev), uint64_t(p.st->st_ino), o, addr, round_up(o->size)};
    return nullptr;
}

// The memfd's name: the link is "/memfd:NAME (deleted)".
void name_of(const char *link, char *out, size_t cap)
{
    const char *n = link + 7;
    size_t len = text::length(n);
    if (len >= 10 && text::equal(n + len - 10, " (deleted)")) len -= 10;
    if (len >= cap) len = cap - 1;
    for (size_t i = 0; i < len; ++i) out[i] = n[i];
    out[len] = 0;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    const auto *pl = static_cast<const image::FdMemfdPayload *>(payload_of(c));
    char msg[88];
    auto fail = [&](const char *what) {
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": ").add(what);
        ctx.refuse(msg);
    };
    for (size_t j = 0; j < i; ++j) {
        const image::FdCommon &o = *ctx.records[j];
        if (o.kind != image::FdKind::Memfd || o.dev != c.dev || o.ino != c.ino) continue;
        // Another open of the same memfd, restored already: the same object again.
        char path[48];
        text::Builder(path, sizeof path).add("/proc/self/fd/").add(uint64_t(o.fd));
        long fd = sys_openat(AT_FDCWD, path, reopen_flags(c.open_flags) | O_CLOEXEC, 0);
        if (fd < 0) return fail("cannot open the memfd again");
        place(fd, c, true);
        if (c.offset > 0) sys_lseek(c.fd, c.offset, SEEK_SET);
        return;
    }
    char name[256];
    name_of(ctx.path(c), name, sizeof name);
    long fd = RAW2(SYS_memfd_create, name, kMfdCloexec | kMfdAllowSealing);
    if (fd < 0) return fail("cannot create a memfd");
    sys_fchmod(int(fd), pl->mode);
    if (sys_ftruncate(int(fd), int64_t(pl->size)) != 0) return fail("cannot size the memfd");
    if (pl->contents_addr) {
        const char *src = reinterpret_cast<const char *>(pl->contents_addr);
        for (uint64_t done = 0; done < pl->size;) {
            long n = sys_pwrite(int(fd), src + done, pl->size - done, int64_t(done));
            if (n <= 0) return fail("cannot fill the memfd");
            done += uint64_t(n);
        }
        sys_munmap(reinterpret_cast<void *>(pl->contents_addr), round_up(pl->size));
    }
    const uint32_t n = pl->n_mappings < image::kMemfdMaxMappings ? pl->n_mappings : image::kMemfdMaxMappings;
    for (uint32_t k = 0; k < n; ++k) {
        const image::FdMemfdMapping &m = pl->mappings[k];
        void *at = sys_mmap(reinterpret_cast<void *>(m.start), m.end - m.start, int(m.prot), MAP_SHARED | MAP_FIXED,
                            int(fd), int64_t(m.offset));
        if (reinterpret_cast<uint64_t>(at) != m.start) return fail("cannot map the memfd again where it was");
    }
    if (pl->seals && sys_fcntl(int(fd), kAddSeals, long(pl->seals)) != 0) return fail("cannot seal the memfd again");
    if ((c.open_flags & O_ACCMODE) != O_RDWR) {
        // memfd_create gives O_RDWR; a description with less is another open of it.
        char path[48];
        text::Builder(path, sizeof path).add("/proc/self/fd/").add(uint64_t(fd));
        long narrow = sys_openat(AT_FDCWD, path, reopen_flags(c.open_flags) | O_CLOEXEC, 0);
        sys_close(int(fd));
        if (narrow < 0) return fail("cannot open the memfd with its access mode");
        fd = narrow;
    }
    place(fd, c, true);
    if (c.offset > 0) sys_lseek(c.fd, c.offset, SEEK_SET);
}

void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    const auto *pl = static_cast<const image::FdMemfdPayload *>(payload);
    if (c.payload_size < sizeof *pl) return;
    out.add("memfd, ").add(pl->size).add(" bytes");
    if (pl->seals) out.add(", seals 0x").add_hex(pl->seals);
    if (pl->n_mappings) out.add(", mapped shared ").add(uint64_t(pl->n_mappings)).add(pl->n_mappings == 1 ? " time" : " times");
    if (!pl->contents_addr && pl->size) out.add(", another open of an earlier descriptor's memfd");
}

}  // namespace

SharedMapping note_shared_mapping(uint32_t dev_major, uint32_t dev_minor, uint64_t ino, uint64_t start,
                                  uint64_t end, uint64_t offset, uint32_t prot, const char *&refusal)
{
    for (int i = 0; i < g_n_captured; ++i) {
        Captured &k = g_captured[i];
        const uint64_t d = k.dev;
        const uint64_t major = ((d >> 8) & 0xfff) | ((d >> 32) & ~0xfffull);
        const uint64_t minor = (d & 0xff) | ((d >> 12) & ~0xffull);
        if (k.ino != ino || major != dev_major || minor != dev_minor) continue;
        if (k.contents && start >= k.contents && end <= k.contents + k.len) return SharedMapping::MemfdContents;
        image::FdMemfdPayload &pl = *k.payload;
        if (pl.n_mappings == image::kMemfdMaxMappings) {
            refusal = "a memfd mapped shared 17+ times (not supported)";
            return SharedMapping::Refused;
        }
        pl.mappings[pl.n_mappings++] = {start, end, offset, prot, 0};
        return SharedMapping::MemfdMapping;
    }
    return SharedMapping::Other;
}

void begin_fd_capture() { g_n_captured = 0; }

void end_fd_capture()
{
    for (int i = 0; i < g_n_captured; ++i)
        if (g_captured[i].contents) sys_munmap(reinterpret_cast<void *>(g_captured[i].contents), g_captured[i].len);
    g_n_captured = 0;
}

extern const KindOps kMemfd = {image::FdKind::Memfd, "memfd", matches, nullptr, false, capture, nullptr, restore,
                               verify_nothing, describe, nullptr,
                                 sizeof(image::FdMemfdPayload)};

}  // namespace ckpt::fd
