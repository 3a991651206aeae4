// The persistent-state layer inside the program; see persist.h and docs/persistent-state.md.
//
// Everything here uses raw system calls and static or mmap'd memory: it runs inside wrappers
// that may be called from the program's own signal handlers, before main, and (for the epoch
// changes) inside the checkpoint signal handler. The slow path (anything that may record) runs
// with all signals blocked and under a spin lock, so it never nests into itself; the hot path
// only reads, validated by a mutation counter.
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "../checksum.h"
#include "../image_writer.h"
#include "../runtime_state.h"
#include "../sys/raw_syscall.h"
#include "../sys/safe_path.h"
#include "../text.h"
#include "pathmatch.h"
#include "pct_format.h"

namespace ckpt::persist {

int g_enabled = 0;
int g_busy = 0;
int g_pending = 0;

namespace {

// ---- system calls not in raw_syscall.h -------------------------------------------------

long sys_getcwd(char *buf, size_t n) { return RAW2(SYS_getcwd, buf, n); }
long sys_linkat(int od, const char *o, int nd, const char *n, int fl) { return RAW5(SYS_linkat, od, o, nd, n, fl); }
long sys_symlinkat(const char *t, int d, const char *p) { return RAW3(SYS_symlinkat, t, d, p); }
long sys_mkdirat(int d, const char *p, int mode) { return RAW3(SYS_mkdirat, d, p, mode); }
long sys_fdatasync(int fd) { return RAW1(SYS_fdatasync, fd); }
long sys_fchmod(int fd, int mode) { return RAW2(SYS_fchmod, fd, mode); }
long sys_fchown(int fd, unsigned u, unsigned g) { return RAW3(SYS_fchown, fd, u, g); }
long sys_utimensat(int d, const char *p, const struct timespec *ts, int fl) { return RAW4(SYS_utimensat, d, p, ts, fl); }
long sys_copy_file_range(int in, int64_t *oi, int out, int64_t *oo, size_t n) { return RAW6(SYS_copy_file_range, in, oi, out, oo, n, 0); }
long sys_tgkill(int pid, int tid, int sig) { return RAW3(SYS_tgkill, pid, tid, sig); }
long sys_madvise(void *a, size_t n, int adv) { return RAW3(SYS_madvise, a, n, adv); }

bool is_err(long r) { return r < 0 && r > -4096; }

// ---- settings and rules ------------------------------------------------------------------

struct Settings {
    bool sync_undo = false;
    bool proceed_on_failure = false;
} g_cfg;

constexpr int kMaxRules = 512;
constexpr size_t kRuleText = 64 * 1024;
struct Rule {
    uint32_t off;
    bool include;
};
Rule g_rules[kMaxRules];
int g_n_rules = 0;
char g_rule_text[kRuleText];
size_t g_rule_used = 0;

bool prefix_covers(const char *prefix, const char *path)
{
    size_t i = 0;
    for (; prefix[i]; ++i)
        if (path[i] != prefix[i]) return false;
    return i > 0 && (path[i] == 0 || path[i] == '/' || prefix[i - 1] == '/');
}

// Built-in exclusions, then the user's rules (the last rule that matches decides).
bool excluded(const char *norm_path)
{
    if (prefix_covers("/proc", norm_path) || prefix_covers("/sys", norm_path) ||
        prefix_covers("/dev", norm_path))
        return true;
    if (g_rt.job_dir[0] == '/' && prefix_covers(g_rt.job_dir, norm_path)) return true;
    for (int i = g_n_rules - 1; i >= 0; --i)
        if (pathmatch::covers(g_rule_text + g_rules[i].off, norm_path)) return !g_rules[i].include;
    return false;
}

// ---- memory: a bump arena per epoch -------------------------------------------------------

struct Arena {
    char *base = nullptr;
    size_t used = 0;
    // Reserved, not committed: only pages used cost memory (and image space). Every checkpoint
    // scans the reservation's pagemap entries, so it is not larger than needed.
    static constexpr size_t kReserve = size_t(256) << 20;

    void *alloc(size_t n)
    {
        if (!base) {
            void *p = sys_mmap(nullptr, kReserve, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (is_err(long(p))) return nullptr;
            base = static_cast<char *>(p);
        }
        size_t at = (used + 15) & ~size_t(15);
        if (at + n > kReserve) return nullptr;
        used = at + n;
        return base + at;
    }
    void reset()
    {
        if (base && used) sys_madvise(base, (used + 4095) & ~size_t(4095), MADV_DONTNEED);
        used = 0;
    }
} g_arena;

// ---- per-file state of the current epoch --------------------------------------------------

enum FileFlags : uint32_t {
    kMetaDone = 1,      // META record written (old size/mode/owner/times)
    kAllCovered = 2,    // nothing more to record for content changes
    kCreated = 4,       // created in this epoch: undo deletes it
    kUnprotected = 8,   // recording failed and the change went ahead (on-undo-failure=proceed)
    kReported = 16,     // a recording failure was reported
};

struct Interval {
    uint64_t start, end;
};

struct FileState {
    uint64_t dev, ino;
    uint64_t orig_size;
    uint32_t flags;
    uint32_t n_iv, cap_iv;
    Interval *iv;
    uint64_t undo_id;  // removed in this epoch and kept as undo-K/<id> (a hard link)
};

FileState **g_map = nullptr;
size_t g_map_cap = 0, g_map_n = 0;

size_t hash_key(uint64_t dev, uint64_t ino)
{
    uint64_t h = (ino * 0x9E3779B97F4A7C15ull) ^ (dev * 0xC2B2AE3D27D4EB4Full);
    return size_t(h ^ (h >> 29));
}

FileState *find_state(uint64_t dev, uint64_t ino)
{
    if (!g_map) return nullptr;
    for (size_t i = hash_key(dev, ino) & (g_map_cap - 1);; i = (i + 1) & (g_map_cap - 1)) {
        FileState *f = g_map[i];
        if (!f) return nullptr;
        if (f->dev == dev && f->ino == ino) return f;
    }
}

bool map_insert(FileState **map, size_t cap, FileState *f)
{
    for (size_t i = hash_key(f->dev, f->ino) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!map[i]) { map[i] = f; return true; }
}

FileState *get_state(uint64_t dev, uint64_t ino)
{
    if (FileState *f = find_state(dev, ino)) return f;
    if (!g_map || (g_map_n + 1) * 2 > g_map_cap) {
        size_t cap = g_map_cap ? g_map_cap * 2 : 1024;
        auto **m = static_cast<FileState **>(g_arena.alloc(cap * sizeof(FileState *)));
        if (!m) return nullptr;
        for (size_t i = 0; i < g_map_cap; ++i)
            if (g_map[i]) map_insert(m, cap, g_map[i]);
        __atomic_store_n(&g_map_cap, cap, __ATOMIC_RELEASE);
        __atomic_store_n(&g_map, m, __ATOMIC_RELEASE);
    }
    auto *f = static_cast<FileState *>(g_arena.alloc(sizeof(FileState)));
    if (!f) return nullptr;
    *f = FileState{dev, ino, 0, 0, 0, 0, nullptr, 0};
    map_insert(g_map, g_map_cap, f);
    ++g_map_n;
    return f;
}

// Index of the last interval with start <= x, or -1.
long iv_find(const FileState *f, uint64_t x)
{
    long lo = 0, hi = long(f->n_iv) - 1, best = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (f->iv[mid].start <= x) best = mid, lo = mid + 1;
        else hi = mid - 1;
    }
    return best;
}

// Is [a, b) inside the saved ranges (or outside the original size, where nothing needs saving)?
bool covered(const FileState *f, uint64_t a, uint64_t b)
{
    if (f->flags & kAllCovered) return true;
    if (b > f->orig_size) b = f->orig_size;
    if (a >= b) return true;
    long i = iv_find(f, a);
    return i >= 0 && f->iv[i].end >= b;
}

bool iv_insert(FileState *f, uint64_t a, uint64_t b)
{
    // Merge with every interval that overlaps or touches [a, b).
    long i = iv_find(f, a);
    long first = (i >= 0 && f->iv[i].end >= a) ? i : i + 1;
    long last = first - 1;
    for (long j = first; j < long(f->n_iv) && f->iv[j].start <= b; ++j) last = j;
    if (last >= first) {
        if (f->iv[first].start < a) a = f->iv[first].start;
        if (f->iv[last].end > b) b = f->iv[last].end;
    }
    const long removed = last - first + 1;
    const uint32_t n_new = uint32_t(long(f->n_iv) - removed + 1);
    if (n_new > f->cap_iv) {
        uint32_t cap = f->cap_iv ? f->cap_iv * 2 : 8;
        while (cap < n_new) cap *= 2;
        auto *niv = static_cast<Interval *>(g_arena.alloc(cap * sizeof(Interval)));
        if (!niv) return false;
        for (long j = 0; j < first; ++j) niv[j] = f->iv[j];
        niv[first] = {a, b};
        for (long j = last + 1; j < long(f->n_iv); ++j) niv[j - removed + 1] = f->iv[j];
        f->cap_iv = cap;
        __atomic_store_n(&f->iv, niv, __ATOMIC_RELEASE);
    } else {
        Interval *iv = f->iv;
        if (removed == 0) {
            for (long j = long(f->n_iv); j > first; --j) iv[j] = iv[j - 1];
        } else if (removed > 1) {
            for (long j = last + 1; j < long(f->n_iv); ++j) iv[j - removed + 1] = iv[j];
        }
        iv[first] = {a, b};
    }
    f->n_iv = n_new;
    if (f->n_iv == 1 && f->iv[0].start == 0 && f->iv[0].end >= f->orig_size) f->flags |= kAllCovered;
    return true;
}

// ---- per-descriptor cache -----------------------------------------------------------------

constexpr int kMaxFd = 4096;
enum FdFlags : uint32_t {
    kFdTracked = 1,
    kFdAppend = 2,
    kFdReadable = 4,
};
struct FdEntry {
    uint32_t gen;  // valid when equal to g_gen
    uint32_t flags;
    FileState *file;
};
FdEntry g_fds[kMaxFd];
uint32_t g_gen = 1;  // bumped at every epoch change and exclusion change
uint64_t g_mut = 0;  // odd while the slow path mutates the tracker

// ---- invisible writers --------------------------------------------------------------------

constexpr int kMaxStreams = 256;
struct Stream {
    int fd;
    StreamKind kind;
};
Stream g_streams[kMaxStreams];
int g_n_streams = 0;

constexpr int kMaxMaps = 32;
struct SharedMap {
    uint64_t addr, len, dev, ino;
    char path[pct::kMaxPath];
};
SharedMap g_maps[kMaxMaps];
int g_n_maps = 0;

// ---- the epoch's log ----------------------------------------------------------------------

struct LogState {
    uint64_t epoch = 0;
    int fd = -1;
    int undo_dir_fd = -1;
    bool created = false;      // the log file exists for this epoch (reopen without truncating)
    bool dir_synced = false;   // its directory entry is durable
    bool undo_dirty = false;   // undo-K/ changed since the last sync
    uint64_t end = 0;
    uint64_t seq = 0;
    uint64_t next_undo_id = 1;
    uint64_t nonce = 0;
} g_log;

int g_pid = 0;
constexpr int kInternalFdBase = 1002;  // above the status pipe (1001), out of the program's way

// Slow-path buffers (used only under the lock, with signals blocked).
char g_path[pct::kMaxPath + 64];
char g_path2[pct::kMaxPath + 64];
char g_norm[pct::kMaxPath + 64];
char g_tmp[pct::kMaxPath + 64];
constexpr size_t kBufSize = pct::kMaxDataChunk + 3 * pct::kMaxPath;
char *g_buf = nullptr;  // record assembly: header | paths | data

int g_lock = 0;
void lock()
{
    while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&g_lock, __ATOMIC_RELAXED)) __builtin_ia32_pause();
}
void unlock() { __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE); }

// Entered by every slow path in normal context: all signals blocked, lock held.
class SlowGuard {
public:
    explicit SlowGuard(bool in_handler = false) : handler_(in_handler)
    {
        if (!handler_) {
            uint64_t all = ~0ull;
            sys_rt_sigprocmask(SIG_BLOCK, &all, &old_);
        }
        lock();
        __atomic_add_fetch(&g_mut, 1, __ATOMIC_SEQ_CST);
    }
    ~SlowGuard()
    {
        __atomic_add_fetch(&g_mut, 1, __ATOMIC_SEQ_CST);
        unlock();
        if (!handler_) sys_rt_sigprocmask(SIG_SETMASK, &old_, nullptr);
    }

private:
    bool handler_;
    uint64_t old_ = 0;
};

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

// The job directory (its last component never a link); files in it are opened relative to it.
long open_job_dir() { return sys_openat(AT_FDCWD, g_rt.job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0); }

long write_all(int fd, const char *p, uint64_t n, uint64_t off)
{
    uint64_t done = 0;
    while (done < n) {
        long w = sys_pwrite(fd, p + done, n - done, int64_t(off + done));
        if (w == -EINTR) continue;
        if (w < 0) return w;
        if (w == 0) return -ENOSPC;
        done += uint64_t(w);
    }
    return 0;
}

int ensure_buf()
{
    if (g_buf) return 0;
    void *p = sys_mmap(nullptr, kBufSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (is_err(long(p))) return ENOMEM;
    g_buf = static_cast<char *>(p);
    return 0;
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
        pct::FileHeader h{};
        for (int i = 0; i < 8; ++i) h.magic[i] = pct::kFileMagic[i];
        h.format_version = pct::kFormatVersion;
        h.header_size = sizeof h;
        h.epoch = g_log.epoch;
        h.pid = g_pid;
        h.flags = g_cfg.sync_undo ? pct::kLogSyncUndo : 0;
        h.created_realtime_ns = realtime_ns();
        h.nonce = h.created_realtime_ns ^ (uint64_t(uint32_t(g_pid)) << 40) ^ (g_log.epoch * 0x9E3779B97F4A7C15ull);
        h.checksum = checksum(&h, sizeof h);
        long r = write_all(int(fd), reinterpret_cast<const char *>(&h), sizeof h, 0);
        if (r < 0) {
            sys_close(int(fd));
            sys_unlinkat(int(dfd), name, 0);
            sys_close(int(dfd));
            return int(-r);
        }
        g_log.nonce = h.nonce;
        g_log.end = sizeof h;
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

struct RecordArgs {
    pct::Kind kind;
    uint16_t flags = 0;
    const char *path = "";
    const char *path2 = "";
    int64_t offset = 0;
    uint64_t undo_id = 0;
    int32_t err = 0;
    const struct stat *st = nullptr;  // META / RMDIR / REMOVED: old attributes and identity
    uint64_t ino = 0;                 // RENAME: the moved object
    uint64_t kept_checksum = 0;       // REMOVED with kKeptChecksum
};

// Assembles the record in g_buf (data, if any, already at its place) and appends it.
int emit(const RecordArgs &a, uint64_t data_len = 0)
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
    long r = write_all(g_log.fd, g_buf, total, g_log.end);
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
    }
    return 0;
}

// Position of the data area for a record with these paths (to read old bytes straight there).
char *data_area(const char *path, const char *path2 = "")
{
    return g_buf + pct::data_offset_in_record(uint32_t(text::length(path)), uint32_t(text::length(path2)));
}

// ---- paths -------------------------------------------------------------------------------

// Absolute path of `path` relative to `dirfd` (kernel-accurate; not normalized). False if it
// cannot be known (or is too long).
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

// Current path of an open descriptor. Returns 1 = normal path in out, 2 = deleted file,
// 0 = unknown.
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

// Record path of a file reached through a descriptor: its name, or, for a file removed in
// this epoch and kept as undo-K/<id>, that name (flag kPathInUndoDir). False: no record.
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

// ---- failures ------------------------------------------------------------------------------

void report_failure(const char *path, int err, bool proceeding)
{
    // The path's tail is the informative part; the message has 88 bytes.
    char msg[88];
    const size_t l = text::length(path);
    const char *tail = l > 70 ? path + l - 70 : path;
    text::Builder(msg, sizeof msg).add(l > 70 ? "..." : "").add(tail);
    report(StatusType::UndoFailure, err, g_log.epoch, proceeding ? 1 : 0, 0, 0, msg);
}

// Applies --on-undo-failure to a recording error. Returns what the wrapper must do.
int fail(int err, FileState *f, const char *path)
{
    if (!err) return 0;
    const bool proceed = g_cfg.proceed_on_failure;
    if (!f || !(f->flags & kReported)) report_failure(path, err, proceed);
    if (f) f->flags |= kReported;
    if (!proceed) return err;
    if (f) f->flags |= kUnprotected | kAllCovered | kMetaDone;
    RecordArgs a{pct::Kind::Unprotected};
    a.path = path;
    a.err = err;
    emit(a);  // best effort: the log itself may be what failed
    return 0;
}

// ---- recording primitives -------------------------------------------------------------------

int record_meta(FileState *f, const char *path, uint16_t flags, const struct stat &st)
{
    if (f && (f->flags & kMetaDone)) return 0;
    RecordArgs a{pct::Kind::Meta};
    a.flags = flags | (S_ISDIR(st.st_mode) ? pct::kDir : 0) | (S_ISLNK(st.st_mode) ? pct::kSymlink : 0);
    a.path = path;
    a.st = &st;
    if (int e = emit(a)) return e;
    if (f) {
        f->flags |= kMetaDone;
        f->orig_size = S_ISREG(st.st_mode) ? uint64_t(st.st_size) : 0;
        if (f->orig_size == 0) f->flags |= kAllCovered;
    }
    return 0;
}

// A readable descriptor for a file: the program's own if readable, else a new one.
struct Source {
    int fd = -1;
    bool owned = false;
    ~Source() { if (owned && fd >= 0) sys_close(fd); }
};

int open_source_fd(int fd, Source &src)
{
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl >= 0 && (fl & O_ACCMODE) != O_WRONLY) { src.fd = fd; return 0; }
    char link[40];
    text::Builder(link, sizeof link).add("/proc/self/fd/").add(uint64_t(unsigned(fd)));
    long r = sys_openat(AT_FDCWD, link, O_RDONLY | O_CLOEXEC, 0);
    if (r < 0) return int(-r);
    src.fd = int(r);
    src.owned = true;
    return 0;
}

// Saves the old bytes of [a, b) (page-aligned, clipped to the original size) that are not
// saved yet. `rfd` reads the file.
int save_range(FileState *f, int rfd, const char *path, uint16_t flags, uint64_t a, uint64_t b)
{
    if (f->flags & kAllCovered) return 0;
    if (b > f->orig_size) b = f->orig_size;
    if (a >= b) return 0;
    a &= ~uint64_t(4095);
    b = (b + 4095) & ~uint64_t(4095);
    // Sequential overwrite (the range continues a saved one): save ahead to the next 256 KiB
    // boundary, so that rewriting a file front to back costs one record per 256 KiB, not per
    // write. Random writes save their pages only.
    constexpr uint64_t kAhead = 256 * 1024;
    if (long i = iv_find(f, a); i >= 0 && f->iv[i].end == a) b = (b + kAhead) & ~(kAhead - 1);
    if (b > f->orig_size) b = f->orig_size;
    uint64_t cur = a;
    while (cur < b) {
        long i = iv_find(f, cur);
        if (i >= 0 && f->iv[i].end > cur) { cur = f->iv[i].end; continue; }
        uint64_t gap_end = b;
        if (i + 1 < long(f->n_iv) && f->iv[i + 1].start < gap_end) gap_end = f->iv[i + 1].start;
        uint64_t at = cur;
        while (at < gap_end) {
            uint64_t want = gap_end - at;
            if (want > pct::kMaxDataChunk) want = pct::kMaxDataChunk;
            char *dst = data_area(path);
            uint64_t got = 0;
            while (got < want) {
                long n = sys_pread(rfd, dst + got, want - got, int64_t(at + got));
                if (n == -EINTR) continue;
                if (n < 0) return int(-n);
                if (n == 0) break;
                got += uint64_t(n);
            }
            if (got == 0) { at = gap_end; break; }  // file shorter than expected: nothing there
            RecordArgs r{pct::Kind::Data};
            r.flags = flags;
            r.path = path;
            r.offset = int64_t(at);
            if (int e = emit(r, got)) return e;
            at += got;
            if (got < want) { at = gap_end; break; }
        }
        if (!iv_insert(f, cur, gap_end)) return ENOMEM;
        cur = gap_end;
    }
    return 0;
}

// Classification of a descriptor for the current epoch (once per descriptor per epoch).
// Fills `e`; when tracked, g_path holds its record path and `st` its attributes.
bool classify(int fd, FdEntry &e, struct stat &st, uint16_t &rflags)
{
    e = FdEntry{g_gen, 0, nullptr};
    rflags = 0;
    if (sys_fstat(fd, &st) != 0) return false;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return false;
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl < 0) return false;
    FileState *known = find_state(st.st_dev, st.st_ino);
    if (!record_path_for_fd(fd, known, g_path, sizeof g_path, rflags)) return false;
    if (!(rflags & pct::kPathInUndoDir) && path_excluded(g_path)) return false;
    FileState *f = known ? known : get_state(st.st_dev, st.st_ino);
    if (!f) return false;
    e.file = f;
    e.flags = uint32_t(kFdTracked) | ((fl & O_APPEND) ? uint32_t(kFdAppend) : 0u) |
              ((fl & O_ACCMODE) != O_WRONLY ? uint32_t(kFdReadable) : 0u);
    return true;
}

void cache_fd(int fd, const FdEntry &e)
{
    if (fd >= 0 && fd < kMaxFd) g_fds[fd] = e;
}

// Protection of a descriptor whose writes are invisible: from `from` (or the offset) to the end.
int protect_fd(int fd, StreamKind kind)
{
    FdEntry e;
    struct stat st;
    uint16_t rf;
    if (!classify(fd, e, st, rf)) { cache_fd(fd, e); return 0; }
    cache_fd(fd, e);
    FileState *f = e.file;
    if (int err = record_meta(f, g_path, rf, st)) return fail(err, f, g_path);
    if ((f->flags & kAllCovered) || (e.flags & kFdAppend) || kind == StreamKind::Append) return 0;
    uint64_t from = 0;
    if (kind == StreamKind::Sequential) {
        long off = sys_lseek(fd, 0, SEEK_CUR);
        if (off < 0) off = 0;
        from = uint64_t(off);
    }
    Source src;
    int err = open_source_fd(fd, src);
    if (!err) err = save_range(f, src.fd, g_path, rf, from, f->orig_size);
    return fail(err, f, g_path);
}

StreamKind stream_kind_of(int fd)
{
    for (int i = 0; i < g_n_streams; ++i)
        if (g_streams[i].fd == fd) return g_streams[i].kind;
    return StreamKind::Sequential;  // standard streams
}

bool is_stream_fd(int fd)
{
    if (fd == 1 || fd == 2) return true;
    for (int i = 0; i < g_n_streams; ++i)
        if (g_streams[i].fd == fd) return true;
    return false;
}

int protect_map(const SharedMap &m)
{
    long fd = sys_openat(AT_FDCWD, m.path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;  // renamed or removed: recorded when that happened
    struct stat st;
    int err = 0;
    if (sys_fstat(int(fd), &st) == 0 && uint64_t(st.st_dev) == m.dev && uint64_t(st.st_ino) == m.ino &&
        !path_excluded(m.path)) {
        FileState *f = get_state(st.st_dev, st.st_ino);
        if (f) {
            err = record_meta(f, m.path, 0, st);
            if (!err) err = save_range(f, int(fd), m.path, 0, 0, f->orig_size);
            err = fail(err, f, m.path);
        }
    }
    sys_close(int(fd));
    return err;
}

// Start of an epoch: everything written invisibly is protected again.
void protect_invisible_writers()
{
    protect_fd(1, StreamKind::Sequential);
    protect_fd(2, StreamKind::Sequential);
    for (int i = 0; i < g_n_streams; ++i) protect_fd(g_streams[i].fd, g_streams[i].kind);
    for (int i = 0; i < g_n_maps; ++i) protect_map(g_maps[i]);
}

void new_epoch(uint64_t epoch)
{
    g_arena.reset();
    g_map = nullptr;
    g_map_cap = g_map_n = 0;
    g_log = LogState{};
    g_log.epoch = epoch;
    if (++g_gen == 0) g_gen = 1;
}

// Keeps a removed object as undo-K/<id>: a hard link where possible (O(1)), else a copy.
int preserve(const char *abs, const struct stat &st, uint64_t &id, uint16_t &flags)
{
    if (int e = ensure_undo_dir()) return e;
    id = g_log.next_undo_id++;
    char name[24];
    text::Builder(name, sizeof name).add(id);
    long r = sys_linkat(AT_FDCWD, abs, g_log.undo_dir_fd, name, 0);
    if (r == 0) { g_log.undo_dirty = true; return 0; }
    if (r != -EXDEV && r != -EPERM && r != -EMLINK && r != -EOPNOTSUPP) return int(-r);
    flags |= pct::kCopied;
    if (S_ISLNK(st.st_mode)) {
        long n = sys_readlinkat(AT_FDCWD, abs, g_tmp, sizeof g_tmp - 1);
        if (n < 0) return int(-n);
        g_tmp[n] = 0;
        r = sys_symlinkat(g_tmp, g_log.undo_dir_fd, name);
        if (r < 0) return int(-r);
        g_log.undo_dirty = true;
        return 0;
    }
    long in = sys_openat(AT_FDCWD, abs, O_RDONLY | O_CLOEXEC, 0);
    if (in < 0) return int(-in);
    long out = open_beneath(g_log.undo_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (out < 0) { sys_close(int(in)); return int(-out); }
    int err = 0;
    int64_t off = 0;
    while (off < st.st_size) {
        int64_t oi = off, oo = off;
        long n = sys_copy_file_range(int(in), &oi, int(out), &oo, size_t(st.st_size - off));
        if (n > 0) { off += n; continue; }
        if (n == 0) break;
        // No in-kernel copy between these file systems: through the buffer.
        if (int e = ensure_buf()) { err = e; break; }
        long m = sys_pread(int(in), g_buf, pct::kMaxDataChunk, off);
        if (m < 0) { err = int(-m); break; }
        if (m == 0) break;
        long w = write_all(int(out), g_buf, uint64_t(m), uint64_t(off));
        if (w < 0) { err = int(-w); break; }
        off += m;
    }
    if (!err) {
        sys_fchown(int(out), st.st_uid, st.st_gid);
        sys_fchmod(int(out), int(st.st_mode & 07777));
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        sys_utimensat(int(out), nullptr, ts, 0);
        long s = sys_fsync(int(out));
        if (s < 0) err = int(-s);
    }
    sys_close(int(in));
    sys_close(int(out));
    if (err) sys_unlinkat(g_log.undo_dir_fd, name, 0);
    else g_log.undo_dirty = true;
    return err;
}

// XXH3-64 of the object kept as undo-K/<name> (a symlink: its target), so that recovery can
// tell a damaged kept copy before it uses it. Reads the whole file: the price of a first
// removal or replacement of an existing file in an epoch.
int kept_checksum(const char *name, const struct stat &st, uint64_t &out)
{
    if (int e = ensure_buf()) return e;
    if (S_ISLNK(st.st_mode)) {
        long n = sys_readlinkat(g_log.undo_dir_fd, name, g_buf, pct::kMaxPath);
        if (n < 0) return int(-n);
        out = checksum(g_buf, size_t(n));
        return 0;
    }
    long fd = sys_openat(g_log.undo_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) return int(-fd);
    static Checksum cs;  // 576 bytes: used under the lock only
    cs = Checksum();
    int err = 0;
    for (int64_t off = 0;;) {
        long m = sys_pread(int(fd), g_buf, pct::kMaxDataChunk, off);
        if (m == -EINTR) continue;
        if (m < 0) { err = int(-m); break; }
        if (m == 0) break;
        cs.update(g_buf, size_t(m));
        off += m;
    }
    sys_close(int(fd));
    out = cs.digest();
    return err;
}

// The object at `abs` (lstat `st`) is about to lose its name: record how to bring it back.
int record_removal(const char *abs, const struct stat &st)
{
    if (S_ISDIR(st.st_mode)) {
        FileState *f = find_state(st.st_dev, st.st_ino);
        if (f && (f->flags & kCreated)) return 0;
        RecordArgs a{pct::Kind::Rmdir};
        a.flags = pct::kDir;
        a.path = abs;
        a.st = &st;
        return emit(a);
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return 0;  // pipes, sockets, devices
    FileState *f = find_state(st.st_dev, st.st_ino);
    if (f && (f->flags & kCreated)) return 0;  // created in this epoch: its CREATE undoes it
    uint64_t id = 0;
    uint16_t flags = S_ISLNK(st.st_mode) ? pct::kSymlink : 0;
    if (int e = preserve(abs, st, id, flags)) return e;
    RecordArgs a{pct::Kind::Removed};
    char kept[24];
    text::Builder(kept, sizeof kept).add(id);
    if (kept_checksum(kept, st, a.kept_checksum) == 0) flags |= pct::kKeptChecksum;
    a.flags = flags;
    a.path = abs;
    a.undo_id = id;
    a.st = &st;
    if (int e = emit(a)) return e;
    if (!(flags & pct::kCopied) && S_ISREG(st.st_mode)) {
        // Writes through descriptors still open on it land in the kept inode.
        if (!f) f = get_state(st.st_dev, st.st_ino);
        if (f) f->undo_id = id;
    } else if (f) {
        f->flags |= kAllCovered | kMetaDone;  // the copy is what comes back
    }
    return 0;
}

long lstat_at(int dirfd, const char *path, struct stat &st, bool follow = false)
{
    return sys_newfstatat(dirfd, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
}

// Slow path of a content change through a descriptor.
int write_slow(int fd, int64_t offset, uint64_t len, bool force_append)
{
    if (sys_getpid() != g_pid) { __atomic_store_n(&g_enabled, 0, __ATOMIC_RELAXED); return 0; }
    if (ensure_buf()) return 0;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    bool have_path = false;
    if (fd >= 0 && fd < kMaxFd && g_fds[fd].gen == g_gen) {
        e = g_fds[fd];
    } else {
        bool tracked = classify(fd, e, st, rf);
        cache_fd(fd, e);
        if (!tracked) return 0;
        have_path = true;
    }
    if (!(e.flags & kFdTracked)) return 0;
    FileState *f = e.file;
    if (f->flags & kAllCovered) return 0;
    if (!have_path) {
        if (!record_path_for_fd(fd, f, g_path, sizeof g_path, rf)) {
            f->flags |= kAllCovered;  // no name: nothing a rollback could restore
            return 0;
        }
    }
    if (!(f->flags & kMetaDone)) {
        if (sys_fstat(fd, &st) != 0) return 0;
        if (int err = record_meta(f, g_path, rf, st)) return fail(err, f, g_path);
        if (f->flags & kAllCovered) return 0;
    }
    if ((e.flags & kFdAppend) || force_append) return 0;
    if (offset < 0) {
        long off = sys_lseek(fd, 0, SEEK_CUR);
        if (off < 0) return 0;  // not seekable: nothing positional to save
        offset = off;
    }
    if (covered(f, uint64_t(offset), uint64_t(offset) + len)) return 0;
    Source src;
    int err = (e.flags & kFdReadable) ? (src.fd = fd, 0) : open_source_fd(fd, src);
    if (!err) err = save_range(f, src.fd, g_path, rf, uint64_t(offset), uint64_t(offset) + len);
    return fail(err, f, g_path);
}

// A path-based change to an existing object's attributes (or its size).
int path_meta(int dirfd, const char *path, bool follow, FileState **out_f, struct stat &st)
{
    if (out_f) *out_f = nullptr;
    if (!absolute(dirfd, path, g_path, sizeof g_path)) return 0;
    if (path_excluded(g_path)) return 0;
    if (lstat_at(dirfd, path, st, follow) != 0) return 0;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return 0;
    FileState *f = get_state(st.st_dev, st.st_ino);
    if (!f) return 0;
    if (out_f) *out_f = f;
    if (int err = record_meta(f, g_path, 0, st)) return fail(err, f, g_path);
    return 0;
}

int on_failure_of(int err, const char *path) { return fail(err, nullptr, path); }

}  // namespace

// ---- public entry points --------------------------------------------------------------------

void reraise_checkpoint()
{
    if (!__atomic_exchange_n(&g_pending, 0, __ATOMIC_SEQ_CST)) return;
    if (g_rt.active && g_rt.signal > 0) sys_tgkill(int(sys_getpid()), int(sys_gettid()), g_rt.signal);
}

int before_write(int fd, int64_t offset, uint64_t len, bool force_append)
{
    if (len == 0) return 0;
    // Hot path: no system call, no lock.
    const uint64_t m = __atomic_load_n(&g_mut, __ATOMIC_ACQUIRE);
    if (!(m & 1) && fd >= 0 && fd < kMaxFd) {
        const FdEntry e = g_fds[fd];
        if (e.gen == __atomic_load_n(&g_gen, __ATOMIC_RELAXED)) {
            bool done = !(e.flags & kFdTracked);
            if (!done) {
                const FileState *f = e.file;
                const uint32_t ff = __atomic_load_n(&f->flags, __ATOMIC_ACQUIRE);
                if (ff & kAllCovered) done = true;
                else if ((ff & kMetaDone) && ((e.flags & kFdAppend) || force_append)) done = true;
                else if ((ff & kMetaDone) && offset >= 0 && covered(f, uint64_t(offset), uint64_t(offset) + len))
                    done = true;
            }
            if (done && __atomic_load_n(&g_mut, __ATOMIC_ACQUIRE) == m) return 0;
        }
    }
    SlowGuard g;
    return write_slow(fd, offset, len, force_append);
}

int before_ftruncate(int fd, int64_t length)
{
    if (length < 0) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    bool tracked = classify(fd, e, st, rf);
    cache_fd(fd, e);
    if (!tracked) return 0;
    FileState *f = e.file;
    if (f->flags & kAllCovered) return 0;
    if (int err = record_meta(f, g_path, rf, st)) return fail(err, f, g_path);
    if (uint64_t(length) >= f->orig_size) return 0;
    Source src;
    int err = open_source_fd(fd, src);
    if (!err) err = save_range(f, src.fd, g_path, rf, uint64_t(length), f->orig_size);
    return fail(err, f, g_path);
}

int before_truncate(const char *path, int64_t length)
{
    if (length < 0 || !path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    struct stat st;
    FileState *f = nullptr;
    if (int err = path_meta(AT_FDCWD, path, true, &f, st)) return err;
    if (!f || !S_ISREG(st.st_mode) || (f->flags & kAllCovered) || uint64_t(length) >= f->orig_size) return 0;
    long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fail(int(-fd), f, g_path);
    int err = save_range(f, int(fd), g_path, 0, uint64_t(length), f->orig_size);
    sys_close(int(fd));
    return fail(err, f, g_path);
}

int before_fallocate(int fd, int mode, int64_t offset, int64_t len)
{
    if (offset < 0 || len <= 0) return 0;
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
        return before_write(fd, offset, uint64_t(len));
    if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
        return before_write(fd, offset, ~uint64_t(0) >> 2);  // everything from offset moves
    // Plain allocation may grow the file: the old size is enough.
    return before_write(fd, -1, 1, true);
}

int before_open(int dirfd, const char *path, int flags, OpenNote &note)
{
    note = OpenNote{};
    const bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
    const bool creat = (flags & O_CREAT) && !tmpfile;
    const bool trunc = (flags & O_TRUNC) && !tmpfile;
    if ((!creat && !trunc) || !path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(dirfd, path, g_path, sizeof g_path) || path_excluded(g_path)) return 0;
    struct stat st;
    const bool nofollow = (flags & O_EXCL) || (flags & O_NOFOLLOW);
    long r = lstat_at(dirfd, path, st, !nofollow);
    if (r == -ENOENT) {
        if (!creat) return 0;
        struct stat lst;
        if (!nofollow && lstat_at(dirfd, path, lst, false) == 0) return 0;  // dangling symlink: not followed
        RecordArgs a{pct::Kind::Create};
        a.path = g_path;
        if (int err = emit(a)) return on_failure_of(err, g_path);
        note.created = true;
        return 0;
    }
    if (r != 0 || !trunc || !S_ISREG(st.st_mode) || (flags & O_EXCL)) return 0;
    FileState *f = get_state(st.st_dev, st.st_ino);
    if (!f) return 0;
    if (int err = record_meta(f, g_path, 0, st)) return fail(err, f, g_path);
    if (f->flags & kAllCovered) { note.truncated = true; return 0; }
    long fd = sys_openat(AT_FDCWD, g_path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fail(int(-fd), f, g_path);
    int err = save_range(f, int(fd), g_path, 0, 0, f->orig_size);
    sys_close(int(fd));
    if (!err) note.truncated = true;
    return fail(err, f, g_path);
}

void after_open(int fd, int flags, const OpenNote &note)
{
    if (fd < 0) return;
    if (!note.created && !note.truncated) {
        if (fd < kMaxFd) __atomic_store_n(&g_fds[fd].gen, 0, __ATOMIC_RELEASE);
        return;
    }
    SlowGuard g;
    struct stat st;
    if (sys_fstat(fd, &st) != 0) { if (fd < kMaxFd) g_fds[fd].gen = 0; return; }
    FileState *f = get_state(st.st_dev, st.st_ino);
    if (!f) { if (fd < kMaxFd) g_fds[fd].gen = 0; return; }
    if (note.created) f->flags |= kCreated | kAllCovered | kMetaDone;
    FdEntry e{g_gen, uint32_t(kFdTracked) | ((flags & O_APPEND) ? uint32_t(kFdAppend) : 0u) |
                         ((flags & O_ACCMODE) != O_WRONLY ? uint32_t(kFdReadable) : 0u), f};
    cache_fd(fd, e);
}

int before_unlink(int dirfd, const char *path, int at_flags)
{
    if (!path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(dirfd, path, g_path, sizeof g_path) || path_excluded(g_path)) return 0;
    struct stat st;
    if (lstat_at(dirfd, path, st) != 0) return 0;
    if (S_ISDIR(st.st_mode) != bool(at_flags & AT_REMOVEDIR)) return 0;  // will fail
    return on_failure_of(record_removal(g_path, st), g_path);
}

int before_remove(const char *path)
{
    if (!path) return 0;
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    return before_unlink(AT_FDCWD, path, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
}

int before_rename(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags)
{
    if (!oldpath || !newpath) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(olddirfd, oldpath, g_path, sizeof g_path)) return 0;
    if (!absolute(newdirfd, newpath, g_path2, sizeof g_path2)) return 0;
    const bool ex_old = path_excluded(g_path), ex_new = path_excluded(g_path2);
    if (ex_old && ex_new) return 0;
    struct stat so, sn;
    if (lstat_at(olddirfd, oldpath, so) != 0) return 0;
    const bool exchange = flags & 2 /* RENAME_EXCHANGE */;
    long rn = lstat_at(newdirfd, newpath, sn);
    if (exchange && rn != 0) return 0;
    if (rn == 0 && !exchange && !(flags & 1 /* RENAME_NOREPLACE */) &&
        !(sn.st_dev == so.st_dev && sn.st_ino == so.st_ino) && !ex_new) {
        // The target is replaced: keep it.
        if (int err = record_removal(g_path2, sn)) return on_failure_of(err, g_path2);
    }
    RecordArgs a{pct::Kind::Rename};
    a.flags = (exchange ? pct::kExchange : 0) | (S_ISDIR(so.st_mode) ? pct::kDir : 0);
    a.path = g_path;
    a.path2 = g_path2;
    a.ino = so.st_ino;
    return on_failure_of(emit(a), g_path2);
}

namespace {

// A name about to be created (a directory with pct::kDir): undo removes it.
int record_create(int dirfd, const char *path, uint32_t flags)
{
    if (!path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(dirfd, path, g_path, sizeof g_path) || path_excluded(g_path)) return 0;
    struct stat st;
    if (lstat_at(dirfd, path, st) == 0) return 0;  // will fail with EEXIST
    RecordArgs a{pct::Kind::Create};
    a.flags = flags;
    a.path = g_path;
    return on_failure_of(emit(a), g_path);
}

}  // namespace

int before_mkdir(int dirfd, const char *path) { return record_create(dirfd, path, pct::kDir); }

int before_new_name(int dirfd, const char *path)
{
    return record_create(dirfd, path, 0);
}

int before_attr_path(int dirfd, const char *path, int at_flags)
{
    if (!path) return 0;
    if (path[0] == 0 && (at_flags & AT_EMPTY_PATH)) return before_attr_fd(dirfd);
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    struct stat st;
    return path_meta(dirfd, path, !(at_flags & AT_SYMLINK_NOFOLLOW), nullptr, st);
}

int before_attr_fd(int fd)
{
    if (fd >= 0 && fd < kMaxFd) {
        const FdEntry e = g_fds[fd];
        if (e.gen == g_gen && (!(e.flags & kFdTracked) || (e.file->flags & kMetaDone))) return 0;
    }
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    bool tracked = classify(fd, e, st, rf);
    cache_fd(fd, e);
    if (!tracked) return 0;
    return fail(record_meta(e.file, g_path, rf, st), e.file, g_path);
}

void stream_opened(int fd, StreamKind kind)
{
    if (fd < 0) return;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return;
    int i = 0;
    while (i < g_n_streams && g_streams[i].fd != fd) ++i;
    if (i == g_n_streams) {
        if (g_n_streams == kMaxStreams) kind = StreamKind::Whole;  // cannot track: protect now only
        else ++g_n_streams;
    }
    if (i < kMaxStreams) g_streams[i] = {fd, kind};
    if (fd < kMaxFd) g_fds[fd].gen = 0;
    protect_fd(fd, kind);
}

void stream_repositioned(int fd)
{
    if (fd < 0 || fd >= kMaxFd) return;
    const FdEntry e = g_fds[fd];
    if (e.gen == g_gen && (!(e.flags & kFdTracked) || (e.flags & kFdAppend) || (e.file->flags & kAllCovered)))
        return;
    if (!is_stream_fd(fd)) return;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return;
    protect_fd(fd, stream_kind_of(fd) == StreamKind::Append ? StreamKind::Append : StreamKind::Sequential);
}

int before_shared_mmap(int fd)
{
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) return 0;  // can never be written through
    if (fd < kMaxFd) g_fds[fd].gen = 0;
    return protect_fd(fd, StreamKind::Whole);
}

void after_shared_mmap(int fd, void *addr, size_t len)
{
    SlowGuard g;
    if (sys_getpid() != g_pid) return;
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) return;
    struct stat st;
    if (sys_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    if (fd_path(fd, g_tmp, sizeof g_tmp) != 1 || path_excluded(g_tmp)) return;
    if (g_n_maps == kMaxMaps) {
        report_failure(g_tmp, ENOSPC, true);  // too many shared mappings to follow
        return;
    }
    SharedMap &m = g_maps[g_n_maps++];
    m.addr = reinterpret_cast<uint64_t>(addr);
    m.len = len;
    m.dev = st.st_dev;
    m.ino = st.st_ino;
    text::Builder(m.path, sizeof m.path).add(g_tmp);
}

void after_munmap(void *addr, size_t len)
{
    if (!g_n_maps) return;
    SlowGuard g;
    const uint64_t a = reinterpret_cast<uint64_t>(addr), b = a + len;
    for (int i = 0; i < g_n_maps;) {
        if (g_maps[i].addr >= a && g_maps[i].addr + g_maps[i].len <= b) {
            g_maps[i] = g_maps[--g_n_maps];
            continue;
        }
        ++i;
    }
}

void fd_closed(int fd)
{
    if (fd >= 0 && fd < kMaxFd) __atomic_store_n(&g_fds[fd].gen, 0, __ATOMIC_RELEASE);
    bool stream = false;
    for (int i = 0; i < g_n_streams && !stream; ++i) stream = g_streams[i].fd == fd;
    if (fd == g_log.fd || fd == g_log.undo_dir_fd || stream) {
        SlowGuard g;
        if (fd == g_log.fd) g_log.fd = -1;  // the program closed ours: reopened when needed
        if (fd == g_log.undo_dir_fd) g_log.undo_dir_fd = -1;
        for (int i = 0; i < g_n_streams; ++i)
            if (g_streams[i].fd == fd) { g_streams[i] = g_streams[--g_n_streams]; break; }
    }
}

void fd_replaced(int fd)
{
    if (fd >= 0 && fd < kMaxFd) __atomic_store_n(&g_fds[fd].gen, 0, __ATOMIC_RELEASE);
    if (fd == g_log.fd || fd == g_log.undo_dir_fd) {
        SlowGuard g;
        if (fd == g_log.fd) g_log.fd = -1;
        if (fd == g_log.undo_dir_fd) g_log.undo_dir_fd = -1;
    }
    if (fd == 1 || fd == 2) {
        // A standard stream now refers to something else: stdio writes to it invisibly.
        SlowGuard g;
        if (sys_getpid() != g_pid || ensure_buf()) return;
        protect_fd(fd, StreamKind::Sequential);
    }
}

void fds_closed(unsigned first, unsigned last)
{
    for (unsigned fd = first; fd <= last && fd < unsigned(kMaxFd); ++fd) g_fds[fd].gen = 0;
    SlowGuard g;
    if (g_log.fd >= 0 && unsigned(g_log.fd) >= first && unsigned(g_log.fd) <= last) g_log.fd = -1;
    if (g_log.undo_dir_fd >= 0 && unsigned(g_log.undo_dir_fd) >= first && unsigned(g_log.undo_dir_fd) <= last)
        g_log.undo_dir_fd = -1;
    for (int i = 0; i < g_n_streams;) {
        if (unsigned(g_streams[i].fd) >= first && unsigned(g_streams[i].fd) <= last) {
            g_streams[i] = g_streams[--g_n_streams];
            continue;
        }
        ++i;
    }
}

namespace {

bool env_true(const char *v) { return v && (v[0] == '1' || v[0] == 'y' || v[0] == 'Y' || v[0] == 't' || v[0] == 'T'); }

int add_rule_locked(const char *text_in, size_t n, bool include)
{
    if (n == 0) return -EINVAL;
    if (g_n_rules == kMaxRules || g_rule_used + n + 1 > kRuleText) return -ENOMEM;
    char *dst = g_rule_text + g_rule_used;
    for (size_t i = 0; i < n; ++i) dst[i] = text_in[i];
    dst[n] = 0;
    g_rules[g_n_rules++] = {uint32_t(g_rule_used), include};
    g_rule_used += n + 1;
    return 0;
}

}  // namespace

int add_rule(const char *path, bool include)
{
    if (!path || !*path) return -EINVAL;
    SlowGuard g;
    char *buf = g_tmp;
    if (pathmatch::has_slash(path)) {
        if (!absolute(AT_FDCWD, path, buf, sizeof g_tmp)) return -ENAMETOOLONG;
        pathmatch::normalize(buf);
    } else {
        text::Builder b(buf, sizeof g_tmp);
        b.add(path);
        if (b.overflow()) return -ENAMETOOLONG;
    }
    int r = add_rule_locked(buf, text::length(buf), include);
    if (r) return r;
    if (++g_gen == 0) g_gen = 1;  // descriptors are classified again
    if (enabled() && sys_getpid() == g_pid && ensure_buf() == 0) {
        // Recovery skips what this epoch recorded for paths excluded during it.
        RecordArgs a{include ? pct::Kind::Include : pct::Kind::Exclude};
        text::Builder(g_path, sizeof g_path).add(buf);
        a.path = g_path;
        emit(a);
    }
    return 0;
}

void program_start()
{
    g_pid = int(sys_getpid());
    g_cfg.sync_undo = env_true(getenv("CKPT_SYNC_UNDO"));
    const char *pol = getenv("CKPT_ON_UNDO_FAILURE");
    g_cfg.proceed_on_failure = pol && pol[0] == 'p';
    if (const char *ex = getenv("CKPT_EXCLUDE")) {
        // Colon-separated; the launcher has made paths absolute already.
        const char *s = ex;
        while (*s) {
            const char *e = s;
            while (*e && *e != ':') ++e;
            if (e > s) add_rule_locked(s, size_t(e - s), false);
            s = *e ? e + 1 : e;
        }
    }
    if (const char *off = getenv("CKPT_PERSIST"); off && off[0] == '0') return;  // recording off
    SlowGuard g;
    if (ensure_buf() != 0) return;
    // Normally epoch 0 (the launcher's recovery removed every log before a fresh start). A
    // program that exec()s keeps its pid and starts the runtime again: it goes on in the epoch
    // of the newest checkpoint, appending to that epoch's log.
    uint64_t epoch = 0;
    long dirfd = open_job_dir();
    if (dirfd >= 0) {
        int64_t latest = latest_version(int(dirfd), g_buf, kBufSize);
        if (latest > 0) epoch = uint64_t(latest);
        sys_close(int(dirfd));
    }
    new_epoch(epoch);
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", epoch, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, g_tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        st.st_size >= long(sizeof(pct::FileHeader)))
        g_log.created = true;  // append, never truncate
    __atomic_store_n(&g_enabled, 1, __ATOMIC_SEQ_CST);
    protect_invisible_writers();
}

bool before_checkpoint()
{
    if (__atomic_load_n(&g_busy, __ATOMIC_SEQ_CST) > 0) {
        __atomic_store_n(&g_pending, 1, __ATOMIC_SEQ_CST);
        return false;
    }
    if (!enabled() || sys_getpid() != g_pid) return true;
    // Default durability: everything recorded in the epoch that ends is on disk before the
    // image that ends it is committed. Our descriptors are closed so that no image holds them.
    if (g_log.fd >= 0) {
        sys_fdatasync(g_log.fd);
        sys_close(g_log.fd);
        g_log.fd = -1;
    }
    if (g_log.undo_dir_fd >= 0) {
        if (g_log.undo_dirty) sys_fsync(g_log.undo_dir_fd);
        g_log.undo_dirty = false;
        sys_close(g_log.undo_dir_fd);
        g_log.undo_dir_fd = -1;
    }
    if (g_log.created && !g_log.dir_synced) {
        long d = open_job_dir();
        if (d >= 0) { sys_fsync(int(d)); sys_close(int(d)); }
        g_log.dir_synced = true;
    }
    // The record buffer holds nothing between calls: keep its pages out of the image.
    if (g_buf) sys_madvise(g_buf, kBufSize, MADV_DONTNEED);
    return true;
}

namespace {
struct Started {
    uint64_t version = 0, nonce = 0;
    bool ok = false;
} g_started;  // the log seal_epoch() started for the image being written
}  // namespace

bool seal_epoch(uint64_t version, uint64_t generation)
{
    g_started = Started{};
    if (!enabled() || sys_getpid() != g_pid || !g_rt.job_dir[0]) return false;
    SlowGuard g(true);
    if (ensure_buf() != 0 || ensure_log() != 0) return false;
    // The Seal: the last record of this epoch, at the offset it names (a log cut short loses it).
    RecordArgs a{pct::Kind::Seal};
    a.offset = int64_t(g_log.end);
    if (emit(a) != 0) return false;
    sys_fdatasync(g_log.fd);
    sys_close(g_log.fd);
    g_log.fd = -1;
    // The next epoch's log, started now so that the image can vouch for it.
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", version, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    // A new file, relative to the job directory and never through a link (as ensure_log()).
    long dfd = open_job_dir();
    if (dfd < 0) return false;
    sys_unlinkat(int(dfd), name, 0);
    long fd = open_beneath(int(dfd), name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    sys_close(int(dfd));
    if (fd < 0) return false;
    sys_fchmod(int(fd), 0600);
    pct::FileHeader h{};
    for (int i = 0; i < 8; ++i) h.magic[i] = pct::kFileMagic[i];
    h.format_version = pct::kFormatVersion;
    h.header_size = sizeof h;
    h.epoch = version;
    h.pid = g_pid;
    h.flags = pct::kLogStarted | (g_cfg.sync_undo ? pct::kLogSyncUndo : 0);
    h.created_realtime_ns = generation;
    h.prev_nonce = g_log.nonce;
    h.nonce = realtime_ns() ^ (uint64_t(uint32_t(g_pid)) << 40) ^ (version * 0x9E3779B97F4A7C15ull);
    h.checksum = checksum(&h, sizeof h);
    // Durable before the image is (the image's commit syncs the directory).
    const bool ok = write_all(int(fd), reinterpret_cast<const char *>(&h), sizeof h, 0) == 0 && sys_fdatasync(int(fd)) == 0;
    sys_close(int(fd));
    if (!ok) {
        sys_unlinkat(AT_FDCWD, g_tmp, 0);
        return false;
    }
    g_started = {version, h.nonce, true};
    return true;
}

void epoch_not_committed(uint64_t version)
{
    if (!g_started.ok || g_started.version != version) return;
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", version, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    sys_unlinkat(AT_FDCWD, g_tmp, 0);  // it would name the still open epoch as sealed
    g_started = Started{};
}

void after_checkpoint(uint64_t version)
{
    if (!enabled() || sys_getpid() != g_pid) return;
    SlowGuard g(true);
    new_epoch(version);
    if (g_started.ok && g_started.version == version) {
        g_log.created = true;  // append to the log seal_epoch() started, never truncate it
        g_log.nonce = g_started.nonce;
    }
    g_started = Started{};
    if (ensure_buf() == 0) protect_invisible_writers();
}

void after_restore(uint64_t version)
{
    if (!enabled()) return;
    SlowGuard g(true);
    g_pid = int(sys_getpid());
    // The descriptors of the image's process are gone (closed before the capture anyway).
    g_log.fd = -1;
    g_log.undo_dir_fd = -1;
    new_epoch(version);
    // The recovery started this epoch's log again (empty): append to it.
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", version, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, g_tmp, &st, 0) == 0 && st.st_size >= long(sizeof(pct::FileHeader)))
        g_log.created = true;
    if (ensure_buf() == 0) protect_invisible_writers();
}

}  // namespace ckpt::persist

// ---- exported API ----------------------------------------------------------------------------

extern "C" __attribute__((visibility("default"))) int ckpt_exclude(const char *path)
{
    int r = ckpt::persist::add_rule(path, false);
    if (r < 0) { errno = -r; return -1; }
    return 0;
}

extern "C" __attribute__((visibility("default"))) int ckpt_include(const char *path)
{
    int r = ckpt::persist::add_rule(path, true);
    if (r < 0) { errno = -r; return -1; }
    return 0;
}
