#include "forked_writer.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

#include "maps_parser.h"
#include "sys/proc_file.h"
#include "sys/raw_syscall.h"
#include "text.h"

namespace ckpt::forked {
namespace {

// The number after `key` in a /proc text ("RssAnon:    1234 kB"), or ~0 if absent.
uint64_t field(const char *text, long len, const char *key)
{
    const size_t klen = text::length(key);
    for (long i = 0; i + long(klen) <= len; ++i) {
        if ((i == 0 || text[i - 1] == '\n') && text::starts_with(text + i, size_t(len - i), key)) {
            const char *p = text + i + klen, *end = text + len;
            while (p < end && (*p == ' ' || *p == '\t')) ++p;
            uint64_t v;
            return text::parse_u64(p, end, v) ? v : ~0ull;
        }
    }
    return ~0ull;
}

// A cgroup file holding one number ("max" or a huge v1 value: no limit), ~0 if none.
uint64_t cgroup_number(const char *path, char *buf, size_t cap)
{
    long n = read_proc_file(path, buf, cap);
    if (n <= 0) return ~0ull;
    const char *p = buf, *end = buf + n;
    uint64_t v;
    if (!text::parse_u64(p, end, v) || v >= (1ull << 60)) return ~0ull;
    return v;
}

// The smallest headroom (limit - usage) of `rel` and its ancestors under `root`, ~0 if none.
uint64_t cgroup_headroom(const char *root, const char *rel, size_t rel_len, const char *limit_file,
                         const char *usage_file, char *buf, size_t cap)
{
    uint64_t best = ~0ull;
    char path[512];
    for (size_t len = rel_len;;) {
        text::Builder b(path, sizeof path);
        b.add(root).add(rel, len).add("/").add(limit_file);
        const uint64_t limit = b.overflow() ? ~0ull : cgroup_number(path, buf, cap);
        if (limit != ~0ull) {
            text::Builder u(path, sizeof path);
            u.add(root).add(rel, len).add("/").add(usage_file);
            const uint64_t usage = cgroup_number(path, buf, cap);
            if (usage != ~0ull) {
                const uint64_t room = limit > usage ? limit - usage : 0;
                if (room < best) best = room;
            }
        }
        if (len == 0) break;
        while (len > 0 && rel[len - 1] != '/') --len;
        if (len > 0) --len;  // drop the '/' too: the parent
    }
    return best;
}

void say_short(char *why, size_t cap, const char *what, uint64_t room, uint64_t need)
{
    text::Builder(why, cap)
        .add(what)
        .add(" leaves ")
        .add(room >> 20)
        .add(" MiB; the copies may need ")
        .add(need >> 20)
        .add(" MiB");
}

// Reads `path` in pieces, calling line(text, len) for each complete line (a longer line than
// the buffer is cut). False if the file cannot be read.
template <class F>
bool for_each_line(const char *path, char *buf, size_t cap, F &&line)
{
    long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return false;
    size_t have = 0;
    bool ok = true;
    for (;;) {
        long n = sys_read(int(fd), buf + have, cap - have);
        if (n < 0) { ok = false; break; }
        have += size_t(n);
        size_t from = 0;
        for (size_t i = 0; i < have; ++i) {
            if (buf[i] != '\n') continue;
            if (!line(buf + from, i - from)) { sys_close(int(fd)); return true; }
            from = i + 1;
        }
        if (n == 0) {
            if (from < have) line(buf + from, have - from);
            break;
        }
        if (from == 0 && have == cap) from = have;  // one line longer than the buffer: dropped
        for (size_t i = from; i < have; ++i) buf[i - from] = buf[i];
        have -= from;
    }
    sys_close(int(fd));
    return ok;
}

}  // namespace

void check_affordable(CaptureSet &set, char *why, size_t cap)
{
    why[0] = 0;
    char *buf = set.scratch;
    const size_t bufcap = 64 * 1024;
    long n = read_proc_file("/proc/self/status", buf, bufcap);
    if (n <= 0) return;
    uint64_t need = field(buf, n, "RssAnon:");
    if (need == ~0ull) return;
    need <<= 10;  // kB
    n = read_proc_file("/proc/meminfo", buf, bufcap);
    if (n > 0) {
        const uint64_t avail = field(buf, n, "MemAvailable:");
        if (avail != ~0ull && (avail << 10) < need) return say_short(why, cap, "the system's available memory", avail << 10, need);
    }
    // The memory cgroup (v2 "0::PATH", v1 "N:...memory...:PATH"), at its usual mount points.
    char cg[4096];
    n = read_proc_file("/proc/self/cgroup", cg, sizeof cg);
    for (long i = 0; i < n;) {
        long end = i;
        while (end < n && cg[end] != '\n') ++end;
        const char *line = cg + i;
        const size_t len = size_t(end - i);
        i = end + 1;
        size_t c1 = 0;
        while (c1 < len && line[c1] != ':') ++c1;
        size_t c2 = c1 + 1;
        while (c2 < len && line[c2] != ':') ++c2;
        if (c2 >= len) continue;
        const char *ctrl = line + c1 + 1, *rel = line + c2 + 1;
        const size_t ctrl_len = c2 - c1 - 1, rel_len = len - c2 - 1;
        uint64_t room = ~0ull;
        if (ctrl_len == 0 && c1 == 1 && line[0] == '0') {
            room = cgroup_headroom("/sys/fs/cgroup", rel, rel_len, "memory.max", "memory.current", buf, bufcap);
        } else {
            bool memory = false;
            for (size_t k = 0; k + 6 <= ctrl_len; ++k)
                if (text::starts_with(ctrl + k, ctrl_len - k, "memory") && (k == 0 || ctrl[k - 1] == ',') &&
                    (k + 6 == ctrl_len || ctrl[k + 6] == ','))
                    memory = true;
            if (memory)
                room = cgroup_headroom("/sys/fs/cgroup/memory", rel, rel_len, "memory.limit_in_bytes",
                                       "memory.usage_in_bytes", buf, bufcap);
        }
        if (room != ~0ull && room < need) return say_short(why, cap, "the memory cgroup's limit", room, need);
    }
}

bool keep_program_view(CaptureSet &set)
{
    const size_t cap = size_t(4) << 20;
    if (!set.program_maps) set.program_maps = set.arena.alloc<char>(cap);
    if (!set.program_maps) return false;
    const long n = read_proc_file("/proc/self/maps", set.program_maps, cap);
    if (n < 0) return false;
    set.program_maps_len = size_t(n);
    return true;
}

long spawn()
{
    // No stack argument: the child goes on with a copy of this one, like fork(). The exit
    // signal is the program's own (CLONE_PARENT), normally SIGCHLD to the launcher.
    return RAW5(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
}

bool become_writer(int status_fd, int lock_fd, int launcher_pid)
{
    uint64_t all = ~0ull;
    sys_rt_sigprocmask(SIG_SETMASK, &all, nullptr);
    sys_prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (sys_getppid() != launcher_pid) return false;
    sys_prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("ckpt-writer"), 0, 0, 0);
    // Keep only the two descriptors, closing what lies around them.
    int keep[2] = {status_fd, lock_fd};
    if (keep[0] > keep[1]) { int t = keep[0]; keep[0] = keep[1]; keep[1] = t; }
    unsigned from = 0;
    for (int k : keep) {
        if (k < 0) continue;
        if (unsigned(k) > from) sys_close_range(from, unsigned(k) - 1);
        from = unsigned(k) + 1;
    }
    sys_close_range(from, ~0u);
    return true;
}

const char *blind_spot(CaptureSet &set, char *detail, size_t cap)
{
    detail[0] = 0;
    // MADV_DONTFORK: a region of the program's maps is missing from ours. Compared by end
    // address, in order (the stack we run on may have grown down, moving its start).
    char *own = set.scratch;
    const long n = read_proc_file("/proc/self/maps", own, set.scratch_size / 2);
    if (n < 0) return "the writer cannot read its own /proc/self/maps";
    MapsLines theirs(set.program_maps, set.program_maps_len), ours(own, size_t(n));
    const char *tl, *ol;
    size_t tlen, olen;
    while (theirs.next(tl, tlen)) {
        MapsEntry te, oe;
        if (!parse_maps_line(tl, tlen, te)) continue;
        bool found = false;
        while (ours.next(ol, olen)) {
            if (!parse_maps_line(ol, olen, oe)) continue;
            found = oe.end == te.end;
            break;
        }
        if (!found) {
            text::Builder(detail, cap).add_hex(te.start).add("-").add_hex(te.end);
            return "a MADV_DONTFORK region (a forked writer does not see it)";
        }
    }
    // MADV_WIPEONFORK: the region is there, zero-filled; smaps shows the flag.
    const char *what = nullptr;
    uint64_t start = 0, end = 0;
    const bool ok = for_each_line("/proc/self/smaps", set.scratch + set.scratch_size / 2, set.scratch_size / 4,
                                  [&](const char *line, size_t len) {
        MapsEntry e;
        if (len && line[0] >= '0' && line[0] <= 'f' && !text::starts_with(line, len, "VmFlags:") &&
            parse_maps_line(line, len, e)) {
            start = e.start;
            end = e.end;
            return true;
        }
        if (!text::starts_with(line, len, "VmFlags:")) return true;
        for (size_t i = 8; i + 2 <= len; ++i)
            if (line[i - 1] == ' ' && line[i] == 'w' && line[i + 1] == 'f' && (i + 2 == len || line[i + 2] == ' ')) {
                what = "a MADV_WIPEONFORK region (a forked writer sees it zero-filled)";
                return false;
            }
        return true;
    });
    if (!ok) return "the writer cannot read its own /proc/self/smaps";
    if (what) text::Builder(detail, cap).add_hex(start).add("-").add_hex(end);
    return what;
}

}  // namespace ckpt::forked
