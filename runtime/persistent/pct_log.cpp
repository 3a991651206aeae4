#include "pct_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>

#include "../checksum.h"
#include "../runtime_state.h"
#include "../sys/raw_syscall.h"
#include "../sys/safe_path.h"
#include "../text.h"
#include "settings.h"
#include "slow_guard.h"

namespace ckpt::persist {

LogState g_log;
char *g_buf = nullptr;

uint64_t realtime_ns()
{
    struct timespec ts{};
    sys_clock_gettime(CLOCK_REALTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

int move_high(long fd)
{
    if (fd < 0) return int(fd);
    long hi = sys_fcntl(int(fd), F_DUPFD_CLOEXEC, kInternalFdBase);
    if (hi < 0) return int(fd);  // keep the low one rather than fail
    sys_close(int(fd));
    return int(hi);
}

void job_path(char *out, size_t cap, const char *name)
{
    text::Builder(out, cap).add(g_rt.job_dir).add("/").add(name);
}

long open_job_dir() { return sys_openat(AT_FDCWD, g_rt.job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0); }

int ensure_buf()
{
    if (g_buf) return 0;
    void *p = sys_mmap(nullptr, kBufSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sys_is_err(long(p))) return ENOMEM;
    g_buf = static_cast<char *>(p);
    return 0;
}

long write_log_header(int fd, uint64_t epoch, uint32_t flags, uint64_t created_ns, uint64_t prev_nonce,
                      uint64_t nonce)
{
    pct::FileHeader h{};
    for (int i = 0; i < 8; ++i) h.magic[i] = pct::kFileMagic[i];
    h.format_version = pct::kFormatVersion;
    h.header_size = sizeof h;
    h.epoch = epoch;
    h.pid = g_pid;
    h.flags = flags;
    h.created_realtime_ns = created_ns;
    h.prev_nonce = prev_nonce;
    h.nonce = nonce;
    h.checksum = checksum(&h, sizeof h);
    return sys_pwrite_all(fd, &h, sizeof h, 0);
}

int ensure_log()
{
    if (g_log.fd >= 0) return 0;
    if (!g_rt.job_dir[0]) return ENOENT;
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", g_log.epoch, ".log");
    // Relative to the job directory and never through a link; a new log is a new file (a
    // torn leftover is unlinked first, not truncated through whatever the name points at).
    long dfd = open_job_dir();
    if (dfd < 0) return int(-dfd);
    if (!g_log.created) sys_unlinkat(int(dfd), name, 0);
    long fd = open_beneath(int(dfd), name, O_WRONLY | O_CREAT | (g_log.created ? 0 : O_EXCL), 0600);
    if (fd < 0) {
        sys_close(int(dfd));
        return int(-fd);
    }
    fd = move_high(fd);
    sys_fchmod(int(fd), 0600);  // exactly 0600 whatever the umask: readers refuse anything else
    if (!g_log.created) {
        const uint64_t now = realtime_ns();
        const uint64_t nonce = now ^ (uint64_t(uint32_t(g_pid)) << 40) ^ (g_log.epoch * 0x9E3779B97F4A7C15ull);
        long r = write_log_header(int(fd), g_log.epoch, g_cfg.sync_undo ? pct::kLogSyncUndo : 0, now, 0, nonce);
        if (r < 0) {
            sys_close(int(fd));
            sys_unlinkat(int(dfd), name, 0);
            sys_close(int(dfd));
            return int(-r);
        }
        g_log.nonce = nonce;
        g_log.end = sizeof(pct::FileHeader);
        g_log.seq = 0;
        g_log.created = true;
        g_log.dir_synced = false;
    } else {
        struct stat st;
        if (sys_fstat(int(fd), &st) != 0) { sys_close(int(fd)); sys_close(int(dfd)); return EIO; }
        g_log.end = uint64_t(st.st_size);
        // Its nonce: the log the next checkpoint starts names this one as its predecessor.
        pct::FileHeader h{};
        long rd = open_beneath(int(dfd), name, O_RDONLY);
        if (rd >= 0) {
            if (sys_pread(int(rd), &h, sizeof h, 0) == long(sizeof h)) g_log.nonce = h.nonce;
            sys_close(int(rd));
        }
    }
    g_log.fd = int(fd);
    if (g_cfg.sync_undo && !g_log.dir_synced) {
        sys_fdatasync(g_log.fd);
        sys_fsync(int(dfd));
        g_log.dir_synced = true;
    }
    sys_close(int(dfd));
    return 0;
}

int ensure_undo_dir()
{
    if (g_log.undo_dir_fd >= 0) return 0;
    char name[64];
    pct::epoch_name(name, sizeof name, "undo-", g_log.epoch, "");
    long dfd = open_job_dir();
    if (dfd < 0) return int(-dfd);
    long r = sys_mkdirat(int(dfd), name, 0700);
    long fd = r < 0 && r != -EEXIST ? r : open_beneath(int(dfd), name, O_RDONLY | O_DIRECTORY);  // never a link
    sys_close(int(dfd));
    if (fd < 0) return int(-fd);
    if (r == 0) sys_fchmod(int(fd), 0700);  // exactly 0700 whatever the umask (recovery checks it)
    g_log.undo_dir_fd = move_high(fd);
    if (r == 0) g_log.dir_synced = false;  // a new entry in the job directory
    return 0;
}

// Assembles the record in g_buf (data, if any, already at its place) and appends it.
int emit(const RecordArgs &a, uint64_t data_len)
{
    if (int e = ensure_log()) return e;
    const size_t l1 = text::length(a.path), l2 = text::length(a.path2);
    if (l1 > pct::kMaxPath || l2 > pct::kMaxPath) return ENAMETOOLONG;
    auto *h = reinterpret_cast<pct::RecordHeader *>(g_buf);
    *h = pct::RecordHeader{};
    h->magic = pct::kRecordMagic;
    h->kind = uint16_t(a.kind);
    h->flags = a.flags;
    h->path_len = uint16_t(l1);
    h->path2_len = uint16_t(l2);
    h->seq = g_log.seq;
    h->offset = a.offset;
    h->undo_id = a.undo_id;
    h->err = a.err;
    h->ino = a.ino;
    if (a.st) {
        h->size = uint64_t(a.st->st_size);
        h->mode = a.st->st_mode;
        h->uid = a.st->st_uid;
        h->gid = a.st->st_gid;
        h->atime_ns = int64_t(a.st->st_atim.tv_sec) * 1000000000 + a.st->st_atim.tv_nsec;
        h->mtime_ns = int64_t(a.st->st_mtim.tv_sec) * 1000000000 + a.st->st_mtim.tv_nsec;
        h->dev = a.st->st_dev;
        h->ino = a.st->st_ino;
    }
    char *p = g_buf + sizeof(pct::RecordHeader);
    for (size_t i = 0; i < l1; ++i) *p++ = a.path[i];
    *p++ = 0;
    for (size_t i = 0; i < l2; ++i) *p++ = a.path2[i];
    *p++ = 0;
    const uint64_t doff = pct::data_offset_in_record(uint32_t(l1), uint32_t(l2));
    while (p < g_buf + doff) *p++ = 0;
    const uint64_t total = pct::record_size(uint32_t(l1), uint32_t(l2), data_len);
    for (uint64_t i = doff + data_len; i < total; ++i) g_buf[i] = 0;
    h->length = data_len;
    h->record_size = uint32_t(total);
    h->data_checksum = data_len ? checksum(g_buf + doff, data_len) : (a.flags & pct::kKeptChecksum) ? a.kept_checksum : 0;
    h->header_checksum = 0;
    Checksum cs;
    cs.update(h, sizeof *h);
    cs.update(g_buf + sizeof *h, l1 + 1 + l2 + 1);
    h->header_checksum = cs.digest();
    long r = sys_pwrite_all(g_log.fd, g_buf, total, g_log.end);
    if (r < 0) {
        sys_ftruncate(g_log.fd, int64_t(g_log.end));  // leave no partial record behind
        return int(-r);
    }
    g_log.end += total;
    ++g_log.seq;
    if (g_cfg.sync_undo) {
        if (g_log.undo_dirty && g_log.undo_dir_fd >= 0) sys_fsync(g_log.undo_dir_fd);
        g_log.undo_dirty = false;
        long s = sys_fdatasync(g_log.fd);
        if (s < 0) return int(-s);
        g_log.synced_end = g_log.end;
    }
    return 0;
}

// Position of the data area for a record with these paths (to read old bytes straight there).
char *data_area(const char *path, const char *path2)
{
    return g_buf + pct::data_offset_in_record(uint32_t(text::length(path)), uint32_t(text::length(path2)));
}


int sync_log()
{
    int err = 0;
    if (g_log.undo_dir_fd >= 0 && g_log.undo_dirty) {
        long s = sys_fsync(g_log.undo_dir_fd);
        if (s < 0) err = int(-s);
        else g_log.undo_dirty = false;
    }
    if (g_log.fd >= 0 && g_log.synced_end < g_log.end) {
        long s = sys_fdatasync(g_log.fd);
        if (s < 0 && !err) err = int(-s);
        else if (s == 0) g_log.synced_end = g_log.end;
    }
    if (g_log.created && !g_log.dir_synced) {
        long d = open_job_dir();
        if (d >= 0) {
            long s = sys_fsync(int(d));
            sys_close(int(d));
            if (s == 0) g_log.dir_synced = true;
            else if (!err) err = int(-s);
        }
    }
    return err;
}

}  // namespace ckpt::persist
