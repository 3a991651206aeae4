#include "process_attrs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>

#include "sys/proc_file.h"
#include "sys/raw_syscall.h"

namespace ckpt::attrs {
namespace {

using namespace image;

// Linux 6.17+: timer_create() takes the id to use from *created_timer_id.
constexpr int kPrTimerCreateRestoreIds = 77;
constexpr int kRestoreIdsOff = 0, kRestoreIdsOn = 1, kRestoreIdsGet = 2;
constexpr uint32_t kMaxTimers = 64, kMaxLocks = 256, kMaxPending = 256;
constexpr int kSigTimerGlibc = 32;  // glibc's internal signal of SIGEV_THREAD timers
constexpr int kCapSetgid = 6, kCapSetuid = 7, kCapSetpcap = 8, kCapSysNice = 23, kCapSysResource = 24;
constexpr uint32_t kSecbitKeepCaps = 1u << 4, kSecbitKeepCapsLocked = 1u << 5;

int program_pdeathsig_value = 0;
// The resource limits the process was given (note_inherited_limits, restore): kept in the
// runtime's memory, so in every image.
RlimitRecord inherited_limits[kNumRlimits];
bool inherited_known = false;

void read_limits(RlimitRecord *out)
{
    for (uint32_t r = 0; r < kNumRlimits; ++r) {
        uint64_t rl[2] = {~0ull, ~0ull};
        RAW4(SYS_prlimit64, 0, r, nullptr, rl);
        out[r] = {rl[0], rl[1]};
    }
}

// Whether the program changed limit r since it was given (else it is the environment's).
bool changed_by_program(const ProcessAttrsRecord &p, uint32_t r)
{
    return p.rlimits[r].cur != p.inherited_rlimits[r].cur || p.rlimits[r].max != p.inherited_rlimits[r].max;
}

size_t align8(size_t v) { return (v + 7) & ~size_t(7); }

bool has_cap(uint64_t caps, int cap) { return (caps >> cap) & 1; }

struct CapData {
    uint32_t effective, permitted, inheritable;
};
struct Caps {
    uint64_t effective = 0, permitted = 0, inheritable = 0;
};

Caps get_caps()
{
    struct { uint32_t version; int pid; } hdr{0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
    CapData d[2] = {};
    Caps c;
    if (RAW2(SYS_capget, &hdr, d) != 0) return c;
    c.effective = d[0].effective | uint64_t(d[1].effective) << 32;
    c.permitted = d[0].permitted | uint64_t(d[1].permitted) << 32;
    c.inheritable = d[0].inheritable | uint64_t(d[1].inheritable) << 32;
    return c;
}

long set_caps(uint64_t eff, uint64_t prm, uint64_t inh)
{
    struct { uint32_t version; int pid; } hdr{0x20080522, 0};
    CapData d[2] = {{uint32_t(eff), uint32_t(prm), uint32_t(inh)},
                    {uint32_t(eff >> 32), uint32_t(prm >> 32), uint32_t(inh >> 32)}};
    return RAW2(SYS_capset, &hdr, d);
}

// "Name:\tvalue" in a /proc status file: the value's start, or nullptr.
const char *status_field(const char *buf, const char *name)
{
    const size_t n = text::length(name);
    for (const char *line = buf; *line;) {
        if (text::starts_with(line, n + 1, name) && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t') ++v;
            return v;
        }
        while (*line && *line != '\n') ++line;
        if (*line) ++line;
    }
    return nullptr;
}

uint64_t parse_hex(const char *p)
{
    uint64_t v = 0;
    for (;; ++p) {
        const char c = *p;
        if (c >= '0' && c <= '9') v = v * 16 + uint64_t(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + uint64_t(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v = v * 16 + uint64_t(c - 'A' + 10);
        else return v;
    }
}

int64_t parse_int(const char *&p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    const bool neg = p < end && *p == '-';
    if (neg) ++p;
    uint64_t v = 0;
    text::parse_u64(p, end, v);
    return neg ? -int64_t(v) : int64_t(v);
}

uint64_t ts_ns(const long *ts) { return uint64_t(ts[0]) * 1000000000ull + uint64_t(ts[1]); }
void ns_ts(uint64_t ns, long *ts)
{
    ts[0] = long(ns / 1000000000ull);
    ts[1] = long(ns % 1000000000ull);
}

CaptureError refused(const char *what, const char *detail = nullptr, uint64_t n = ~0ull)
{
    CaptureError e;
    e.err = EOPNOTSUPP;
    e.what = what;
    text::Builder b(e.detail, sizeof e.detail);
    if (detail) b.add(detail);
    if (n != ~0ull) b.add(n);
    return e;
}

// The kernel's pending bits of this thread (SigPnd) and of the process (ShdPnd).
bool pending_sets(char *buf, size_t cap, uint64_t &thread, uint64_t &shared)
{
    if (read_proc_file("/proc/thread-self/status", buf, cap) <= 0) return false;
    const char *t = status_field(buf, "SigPnd"), *s = status_field(buf, "ShdPnd");
    if (!t || !s) return false;
    thread = parse_hex(t);
    shared = parse_hex(s);
    return true;
}

// Queues a recorded signal again, with its siginfo, at the current pid (and tid).
long requeue(const PendingSignalRecord &r)
{
    const long pid = sys_getpid();
    if (r.thread) return RAW4(SYS_rt_tgsigqueueinfo, pid, sys_gettid(), r.signo, r.siginfo);
    return RAW3(SYS_rt_sigqueueinfo, pid, r.signo, r.siginfo);
}

// Dequeues every pending signal but ckpt's (the handler blocks them all), recording where it
// was queued and its siginfo, and queues them again at once: the live process loses nothing.
CaptureError capture_pending(CaptureSet &set, int ckpt_signal, PendingSignalRecord *out, uint32_t &n)
{
    n = 0;
    CaptureError err;
    uint64_t thread = 0, shared = 0;
    // One read when nothing is pending (the usual case), one more after each dequeue.
    bool known = pending_sets(set.scratch, set.scratch_size, thread, shared);
    for (int s = 1; s <= 64 && !err; ++s) {
        if (s == ckpt_signal || s == SIGKILL || s == SIGSTOP) continue;
        for (;;) {
            if (!known) {
                err.err = EIO;
                err.what = "cannot read the pending signals (/proc/thread-self/status)";
                break;
            }
            const uint64_t bit = 1ull << (s - 1);
            if (!((thread | shared) & bit)) break;
            if (n == kMaxPending) { err = refused("too many pending signals", "more than ", kMaxPending); break; }
            PendingSignalRecord &r = out[n];
            r.signo = s;
            r.thread = (thread & bit) ? 1 : 0;  // the kernel dequeues the thread's queue first
            uint64_t set1 = bit;
            const long zero[2] = {0, 0};
            if (RAW4(SYS_rt_sigtimedwait, &set1, r.siginfo, zero, 8) != s) break;
            ++n;
            known = pending_sets(set.scratch, set.scratch_size, thread, shared);
        }
    }
    for (uint32_t i = 0; i < n; ++i) requeue(out[i]);
    return err;
}

// /proc/self/timers: "ID: n", "signal: signo/value", "notify: kind/pid.N|tid.N", "ClockID: c".
CaptureError capture_timers(CaptureSet &set, PosixTimerRecord *out, uint32_t &n)
{
    n = 0;
    long len = read_proc_file("/proc/self/timers", set.scratch, set.scratch_size);
    if (len == -ENOENT) return {};  // no timers file without CONFIG_POSIX_TIMERS / CHECKPOINT_RESTORE
    if (len < 0) {
        CaptureError e;
        e.err = int(-len);
        e.what = "cannot read /proc/self/timers";
        return e;
    }
    const char *p = set.scratch, *end = set.scratch + len;
    PosixTimerRecord *cur = nullptr;
    while (p < end) {
        const char *line = p;
        while (p < end && *p != '\n') ++p;
        const char *eol = p;
        if (p < end) ++p;
        const size_t ll = size_t(eol - line);
        if (text::starts_with(line, ll, "ID:")) {
            if (n == kMaxTimers) return refused("too many POSIX timers", "more than ", kMaxTimers);
            cur = &out[n++];
            *cur = PosixTimerRecord{};
            const char *q = line + 3;
            cur->id = int32_t(parse_int(q, eol));
        } else if (cur && text::starts_with(line, ll, "signal:")) {
            const char *q = line + 7;
            cur->signo = int32_t(parse_int(q, eol));
            if (q < eol && *q == '/') cur->value = parse_hex(q + 1);
        } else if (cur && text::starts_with(line, ll, "notify:")) {
            const char *q = line + 7;
            while (q < eol && *q == ' ') ++q;
            const bool sig = text::starts_with(q, size_t(eol - q), "signal");
            const bool none = text::starts_with(q, size_t(eol - q), "none");
            while (q < eol && *q != '/') ++q;
            const bool tid = q + 4 < eol && text::starts_with(q + 1, size_t(eol - q - 1), "tid");
            while (q < eol && *q != '.') ++q;
            if (q < eol) ++q;
            const int64_t who = parse_int(q, eol);
            cur->notify = none ? SIGEV_NONE : sig ? SIGEV_SIGNAL : SIGEV_THREAD;
            if (tid) {
                cur->notify |= SIGEV_THREAD_ID;
                cur->notify_tid = int32_t(who);
            }
        } else if (cur && text::starts_with(line, ll, "ClockID:")) {
            const char *q = line + 8;
            cur->clock = int32_t(parse_int(q, eol));
        }
    }
    const long self_tid = sys_gettid();
    for (uint32_t i = 0; i < n; ++i) {
        PosixTimerRecord &t = out[i];
        // glibc runs SIGEV_THREAD timers on a helper thread of its own that waits for its
        // internal signal: that thread cannot be recreated from here.
        if ((t.notify & ~SIGEV_THREAD_ID) == SIGEV_THREAD ||
            ((t.notify & SIGEV_THREAD_ID) && (t.notify_tid != self_tid || t.signo == kSigTimerGlibc)))
            return refused("a SIGEV_THREAD timer (not supported)", "timer ", uint64_t(t.id));
        long its[4] = {};
        if (RAW2(SYS_timer_gettime, t.id, its) != 0) return refused("a POSIX timer that timer_gettime refuses", "timer ", uint64_t(t.id));
        t.interval_ns = ts_ns(its);
        t.value_ns = ts_ns(its + 2);
    }
    return {};
}

// The locks of one descriptor, from its fdinfo ("lock:\t1: FLOCK  ADVISORY  WRITE pid dev:ino start end").
CaptureError capture_locks_of(CaptureSet &set, int fd, FileLockRecord *out, uint32_t &n)
{
    char path[64];
    text::Builder(path, sizeof path).add("/proc/self/fdinfo/").add(uint64_t(fd));
    long len = read_proc_file(path, set.scratch, set.scratch_size);
    if (len <= 0) return {};
    const char *p = set.scratch, *end = set.scratch + len;
    while (p < end) {
        const char *line = p;
        while (p < end && *p != '\n') ++p;
        const char *eol = p;
        if (p < end) ++p;
        if (!text::starts_with(line, size_t(eol - line), "lock:")) continue;
        const char *q = line + 5;
        auto word = [&](const char *&w) {  // the next blank-separated word; its length
            while (q < eol && (*q == ' ' || *q == '\t')) ++q;
            w = q;
            while (q < eol && *q != ' ' && *q != '\t') ++q;
            return size_t(q - w);
        };
        const char *w;
        word(w);  // "1:"
        size_t wl = word(w);
        if (text::starts_with(w, wl, "->")) continue;  // a waiter, not a holder
        LockKind kind;
        if (text::starts_with(w, wl, "FLOCK")) kind = LockKind::Flock;
        else if (text::starts_with(w, wl, "POSIX")) kind = LockKind::Posix;
        else if (text::starts_with(w, wl, "OFDLCK")) kind = LockKind::Ofd;
        else return refused("a lease or other lock (not supported)", "fd ", uint64_t(fd));
        word(w);  // ADVISORY / MANDATORY
        wl = word(w);
        const uint32_t type = text::starts_with(w, wl, "WRITE") ? F_WRLCK : F_RDLCK;
        word(w);  // pid
        word(w);  // dev:ino
        const int64_t start = parse_int(q, eol);
        while (q < eol && *q == ' ') ++q;
        int64_t len_ = 0;
        if (!text::starts_with(q, size_t(eol - q), "EOF")) len_ = parse_int(q, eol) - start + 1;
        if (n == kMaxLocks) return refused("too many file locks", "more than ", kMaxLocks);
        out[n++] = FileLockRecord{fd, kind, type, 0, start, len_};  // appended after the others
    }
    return {};
}

void add_cap_names(text::Builder &why, uint64_t caps)
{
    why.add(" (capability bits 0x").add_hex(caps).add(")");
}

}  // namespace

void note_inherited_limits()
{
    read_limits(inherited_limits);
    inherited_known = true;
}

int program_pdeathsig() { return program_pdeathsig_value; }
void set_program_pdeathsig(int sig) { program_pdeathsig_value = sig; }

size_t section_size(uint32_t n_threads, uint32_t n_timers, uint32_t n_pending, uint32_t n_locks)
{
    return align8(sizeof(ProcessAttrsRecord)) + align8(n_threads * sizeof(ThreadAttrsRecord)) +
           align8(n_timers * sizeof(PosixTimerRecord)) + align8(n_pending * sizeof(PendingSignalRecord)) +
           align8(n_locks * sizeof(FileLockRecord));
}

bool parse(const void *bytes, size_t size, View &out)
{
    out = View{};
    if (!bytes || size < sizeof(ProcessAttrsRecord)) return false;
    const char *b = static_cast<const char *>(bytes);
    const auto *p = reinterpret_cast<const ProcessAttrsRecord *>(b);
    if (p->record_size != sizeof(ProcessAttrsRecord) || p->n_groups > kMaxGroups || p->n_threads > 1024 ||
        p->n_timers > kMaxTimers || p->n_locks > kMaxLocks || p->n_pending > kMaxPending)
        return false;
    if (section_size(p->n_threads, p->n_timers, p->n_pending, p->n_locks) != size) return false;
    size_t at = align8(sizeof *p);
    out.proc = p;
    out.threads = reinterpret_cast<const ThreadAttrsRecord *>(b + at);
    at += align8(p->n_threads * sizeof(ThreadAttrsRecord));
    out.timers = reinterpret_cast<const PosixTimerRecord *>(b + at);
    at += align8(p->n_timers * sizeof(PosixTimerRecord));
    out.pending = reinterpret_cast<const PendingSignalRecord *>(b + at);
    at += align8(p->n_pending * sizeof(PendingSignalRecord));
    out.locks = reinterpret_cast<const FileLockRecord *>(b + at);
    for (uint32_t i = 0; i < p->n_pending; ++i)
        if (out.pending[i].signo < 1 || out.pending[i].signo > 64) return false;
    return true;
}

CaptureError check_timers(CaptureSet &set)
{
    auto *records = set.arena.alloc<PosixTimerRecord>(257);
    uint32_t n = 0;
    if (!records) return {};
    return capture_timers(set, records, n);
}

CaptureError capture(CaptureSet &set, int ckpt_signal, bool launcher)
{
    // Room for the largest section; trimmed to what was found below.
    const size_t cap = section_size(1, kMaxTimers, kMaxPending, kMaxLocks);
    char *buf = set.arena.alloc<char>(cap);
    if (!buf) return refused("out of memory for the process attributes");
    for (size_t i = 0; i < cap; ++i) buf[i] = 0;
    auto *p = reinterpret_cast<ProcessAttrsRecord *>(buf);
    p->record_size = sizeof *p;

    long n = read_proc_file("/proc/self/status", set.scratch, set.scratch_size);
    if (n <= 0) {
        CaptureError e;
        e.err = n < 0 ? int(-n) : EIO;
        e.what = "cannot read /proc/self/status";
        return e;
    }
    // A sandbox that a restore could not give back as it was is never dropped silently.
    if (const char *s = status_field(set.scratch, "Seccomp"); s && *s != '0')
        return refused("a seccomp filter is installed (a restore cannot reinstall it)", "Seccomp: ",
                       uint64_t(*s - '0'));
    if (const char *s = status_field(set.scratch, "CapBnd")) p->cap_bounding = parse_hex(s);
    if (const char *s = status_field(set.scratch, "CapAmb")) p->cap_ambient = parse_hex(s);

    RAW3(SYS_getresuid, &p->ruid, &p->euid, &p->suid);
    RAW3(SYS_getresgid, &p->rgid, &p->egid, &p->sgid);
    p->fsuid = uint32_t(RAW1(SYS_setfsuid, -1));  // an invalid id changes nothing and tells the current one
    p->fsgid = uint32_t(RAW1(SYS_setfsgid, -1));
    const long ng = RAW2(SYS_getgroups, 0, nullptr);
    if (ng > long(kMaxGroups)) return refused("too many supplementary groups", "", uint64_t(ng));
    p->n_groups = ng > 0 ? uint32_t(RAW2(SYS_getgroups, kMaxGroups, p->groups)) : 0;
    const Caps c = get_caps();
    p->cap_effective = c.effective;
    p->cap_permitted = c.permitted;
    p->cap_inheritable = c.inheritable;
    p->securebits = uint32_t(sys_prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    if (sys_prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) p->flags |= kAttrsNoNewPrivs;
    if (sys_prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0) p->flags |= kAttrsNotDumpable;
    if (sys_prctl(kPrTimerCreateRestoreIds, kRestoreIdsGet, 0, 0, 0) == 1) p->flags |= kAttrsTimerIdsKept;

    p->nice = int32_t(20 - RAW2(SYS_getpriority, 0 /* PRIO_PROCESS */, 0));
    p->personality = uint32_t(RAW1(SYS_personality, 0xffffffffL));
    p->pid = int32_t(sys_getpid());
    p->pgid = int32_t(RAW1(SYS_getpgid, 0));
    p->sid = int32_t(RAW1(SYS_getsid, 0));
    if (p->sid == p->pid) p->flags |= kAttrsSessionLeader;
    if (p->pgid == p->pid) p->flags |= kAttrsGroupLeader;
    int kernel_pdeathsig = 0;
    if (!launcher) sys_prctl(PR_GET_PDEATHSIG, reinterpret_cast<unsigned long>(&kernel_pdeathsig), 0, 0, 0);
    p->pdeathsig = launcher ? program_pdeathsig_value : kernel_pdeathsig;
    read_limits(p->rlimits);
    for (uint32_t r = 0; r < kNumRlimits; ++r)
        p->inherited_rlimits[r] = inherited_known ? inherited_limits[r] : p->rlimits[r];
    for (int w = 0; w < 3; ++w) {
        long itv[4] = {};  // struct itimerval: interval {sec, usec}, value {sec, usec}
        RAW2(SYS_getitimer, w, itv);
        p->itimers[w].interval_ns = uint64_t(itv[0]) * 1000000000ull + uint64_t(itv[1]) * 1000ull;
        p->itimers[w].value_ns = uint64_t(itv[2]) * 1000000000ull + uint64_t(itv[3]) * 1000ull;
    }

    // The coordinating thread's name (every thread's is in its ThreadRecord: threads.h).
    char *at = buf + align8(sizeof *p);
    auto *thread = reinterpret_cast<ThreadAttrsRecord *>(at);
    thread->tid = int32_t(sys_gettid());
    sys_prctl(PR_GET_NAME, reinterpret_cast<unsigned long>(thread->comm), 0, 0, 0);
    p->n_threads = 1;
    at += align8(sizeof(ThreadAttrsRecord));
    if (CaptureError e = capture_timers(set, reinterpret_cast<PosixTimerRecord *>(at), p->n_timers)) return e;
    at += align8(p->n_timers * sizeof(PosixTimerRecord));
    if (CaptureError e = capture_pending(set, ckpt_signal, reinterpret_cast<PendingSignalRecord *>(at), p->n_pending))
        return e;
    set.attrs = buf;
    set.attrs_size = section_size(p->n_threads, p->n_timers, p->n_pending, 0);
    return {};
}

CaptureError capture_locks(CaptureSet &set)
{
    auto *p = reinterpret_cast<ProcessAttrsRecord *>(set.attrs);
    if (!p) return refused("the process attributes were not captured");
    // The locks go last in the section, right after what capture() laid out.
    auto *locks = reinterpret_cast<FileLockRecord *>(set.attrs + set.attrs_size);
    p->n_locks = 0;
    for (size_t i = 0; i < set.fds.size(); ++i)
        if (CaptureError e = capture_locks_of(set, set.fds[i].fd, locks, p->n_locks)) return e;
    set.attrs_size = section_size(p->n_threads, p->n_timers, p->n_pending, p->n_locks);
    return {};
}

bool check_restorable(const View &v, const char *(*fd_path)(int, const void *), const void *ctx, text::Builder &why)
{
    const ProcessAttrsRecord &p = *v.proc;
    const size_t start = why.size();
    auto problem = [&]() -> text::Builder & { return why.add(why.size() > start ? "; " : ""); };
    uint32_t ru = 0, eu = 0, su = 0, rg = 0, eg = 0, sg = 0;
    RAW3(SYS_getresuid, &ru, &eu, &su);
    RAW3(SYS_getresgid, &rg, &eg, &sg);
    const Caps c = get_caps();
    auto uid_ok = [&](uint32_t u) { return has_cap(c.effective, kCapSetuid) || u == ru || u == eu || u == su; };
    auto gid_ok = [&](uint32_t g) { return has_cap(c.effective, kCapSetgid) || g == rg || g == eg || g == sg; };
    if (!uid_ok(p.ruid) || !uid_ok(p.euid) || !uid_ok(p.suid) || !uid_ok(p.fsuid))
        problem().add("user ids ").add(uint64_t(p.ruid)).add("/").add(uint64_t(p.euid)).add("/").add(uint64_t(p.suid))
            .add(" (you are ").add(uint64_t(eu)).add(")");
    if (!gid_ok(p.rgid) || !gid_ok(p.egid) || !gid_ok(p.sgid) || !gid_ok(p.fsgid))
        problem().add("group ids ").add(uint64_t(p.rgid)).add("/").add(uint64_t(p.egid)).add("/").add(uint64_t(p.sgid));
    if (!has_cap(c.effective, kCapSetgid)) {
        uint32_t mine[kMaxGroups];
        const long n = RAW2(SYS_getgroups, kMaxGroups, mine);
        bool same = n == long(p.n_groups);
        for (long i = 0; same && i < n; ++i) same = mine[i] == p.groups[i];
        if (!same) problem().add("supplementary groups");
    }
    // What a restore as root with keep-caps can give back: the capabilities it has itself.
    if ((p.cap_permitted & ~c.permitted) || (p.cap_inheritable & ~(c.inheritable | (has_cap(c.effective, kCapSetpcap) ? ~0ull : 0)))) {
        problem().add("capabilities");
        add_cap_names(why, p.cap_permitted & ~c.permitted);
    }
    char status[4096];
    uint64_t bnd = ~0ull;
    if (read_proc_file("/proc/self/status", status, sizeof status) > 0)
        if (const char *s = status_field(status, "CapBnd")) bnd = parse_hex(s);
    if (p.cap_bounding & ~bnd) problem().add("capability bounding set (wider than yours)");
    if (p.cap_bounding != bnd && !has_cap(c.effective, kCapSetpcap)) problem().add("capability bounding set (needs CAP_SETPCAP)");
    const uint32_t sb = uint32_t(sys_prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    if ((p.securebits & ~(kSecbitKeepCaps)) != (sb & ~kSecbitKeepCaps) && !has_cap(c.effective, kCapSetpcap))
        problem().add("securebits 0x").add_hex(p.securebits);
    static const char *const kLimitNames[kNumRlimits] = {
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
        "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
    for (uint32_t r = 0; r < kNumRlimits; ++r) {
        uint64_t rl[2] = {~0ull, ~0ull};
        if (RAW4(SYS_prlimit64, 0, r, nullptr, rl) != 0 || !changed_by_program(p, r)) continue;
        if (p.rlimits[r].max > rl[1] && !has_cap(c.effective, kCapSysResource)) {
            problem().add(kLimitNames[r]).add(" hard limit ");
            if (p.rlimits[r].max == ~0ull) why.add("unlimited"); else why.add(p.rlimits[r].max);
            why.add(" (yours is ");
            if (rl[1] == ~0ull) why.add("unlimited"); else why.add(rl[1]);
            why.add(")");
        }
    }
    const int nice_now = int(20 - RAW2(SYS_getpriority, 0, 0));
    uint64_t nice_rl[2] = {0, 0};
    RAW4(SYS_prlimit64, 0, 13 /* RLIMIT_NICE */, nullptr, nice_rl);
    const uint64_t nice_lim = changed_by_program(p, 13) ? p.rlimits[13].cur : nice_rl[0];
    const int64_t nice_floor = 20 - int64_t(nice_lim > 40 ? 40 : nice_lim);
    if (p.nice < nice_now && !has_cap(c.effective, kCapSysNice) && p.nice < nice_floor)
        problem().add("nice ").add_int(p.nice).add(" (yours is ").add_int(nice_now).add(")");
    if (p.n_timers && sys_prctl(kPrTimerCreateRestoreIds, kRestoreIdsGet, 0, 0, 0) < 0)
        problem().add("POSIX timers (this kernel cannot recreate a timer with its id)");
    const long self = sys_getpid();
    for (uint32_t i = 0; i < p.n_locks; ++i) {
        const FileLockRecord &l = v.locks[i];
        const char *path = fd_path ? fd_path(l.fd, ctx) : nullptr;
        if (!path) continue;
        long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
        if (fd < 0) continue;  // the descriptor checks name a missing file
        bool held = false;
        long holder = 0;
        if (l.kind == LockKind::Flock) {
            // rollback() restores in the same process, whose own flock is still there: ckpt-run
            // and the launcher never do, so any conflict is someone else's.
            const int op = (l.type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB;
            if (RAW2(SYS_flock, fd, op) == -EWOULDBLOCK) held = true;
        } else {
            struct flock q{};
            q.l_type = short(l.type);
            q.l_whence = SEEK_SET;
            q.l_start = l.start;
            q.l_len = l.len;
            if (sys_fcntl(int(fd), F_OFD_GETLK, reinterpret_cast<long>(&q)) == 0 && q.l_type != F_UNLCK &&
                q.l_pid != self) {
                held = true;
                holder = q.l_pid;
            }
        }
        sys_close(int(fd));
        if (held) {
            problem().add(l.kind == LockKind::Flock ? "flock" : l.kind == LockKind::Posix ? "fcntl lock" : "OFD lock")
                .add(" on ").add(path).add(" (fd ").add(uint64_t(l.fd)).add(") is held by ");
            if (holder > 0) why.add("pid ").add(uint64_t(holder)); else why.add("another process");
        }
    }
    return why.size() == start;
}

void restore(const View &v, int ckpt_signal, void (*warn)(const char *), void (*refuse)(const char *))
{
    const ProcessAttrsRecord &p = *v.proc;
    char msg[96];
    // What this process was given is the new environment's; the program's own changes win.
    read_limits(inherited_limits);
    inherited_known = true;
    for (uint32_t r = 0; r < kNumRlimits; ++r) {
        if (!changed_by_program(p, r)) continue;
        const uint64_t rl[2] = {p.rlimits[r].cur, p.rlimits[r].max};
        if (RAW4(SYS_prlimit64, 0, r, rl, nullptr) != 0) {
            text::Builder(msg, sizeof msg).add("cannot restore resource limit ").add(uint64_t(r));
            warn(msg);
        }
    }
    if (RAW3(SYS_setpriority, 0, 0, p.nice) != 0) warn("cannot restore the nice value");
    if (uint32_t(RAW1(SYS_personality, 0xffffffffL)) != p.personality) RAW1(SYS_personality, p.personality);
    if (p.n_threads) sys_prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(v.threads[0].comm), 0, 0, 0);
    program_pdeathsig_value = p.pdeathsig;

    for (int w = 0; w < 3; ++w) {  // all three: a rollback's process may have one running
        const ItimerRecord &t = p.itimers[w];
        // Whole microseconds, never rounded down to 0 (which would disarm it).
        const uint64_t value_us = (t.value_ns + 999) / 1000;
        long itv[4] = {long(t.interval_ns / 1000000000ull), long((t.interval_ns % 1000000000ull) / 1000),
                       long(value_us / 1000000ull), long(value_us % 1000000ull)};
        if (RAW3(SYS_setitimer, w, itv, nullptr) != 0) warn("cannot restore an interval timer");
    }
    if (p.n_timers) {
        sys_prctl(kPrTimerCreateRestoreIds, kRestoreIdsOn, 0, 0, 0);
        for (uint32_t i = 0; i < p.n_timers; ++i) {
            const PosixTimerRecord &t = v.timers[i];
            // struct sigevent: sigev_value, sigev_signo, sigev_notify, then the thread id.
            struct { uint64_t value; int32_t signo, notify, tid, pad[11]; } sev{};
            sev.value = t.value;
            sev.signo = t.signo;
            sev.notify = t.notify;
            sev.tid = int32_t(sys_gettid());
            int id = t.id;
            long rc = RAW3(SYS_timer_create, t.clock, &sev, &id);
            if (rc != 0 || id != t.id) {
                text::Builder(msg, sizeof msg).add("cannot recreate POSIX timer ").add(uint64_t(t.id));
                refuse(msg);
            }
            if (t.value_ns) {
                long its[4];
                ns_ts(t.interval_ns, its);
                ns_ts(t.value_ns, its + 2);
                RAW4(SYS_timer_settime, id, 0, its, nullptr);
            }
        }
        if (!(p.flags & kAttrsTimerIdsKept)) sys_prctl(kPrTimerCreateRestoreIds, kRestoreIdsOff, 0, 0, 0);
    }

    for (uint32_t i = 0; i < p.n_locks; ++i) {
        const FileLockRecord &l = v.locks[i];
        long rc;
        if (l.kind == LockKind::Flock) {
            rc = RAW2(SYS_flock, l.fd, (l.type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB);
        } else {
            struct flock q{};
            q.l_type = short(l.type);
            q.l_whence = SEEK_SET;
            q.l_start = l.start;
            q.l_len = l.len;
            rc = sys_fcntl(l.fd, l.kind == LockKind::Ofd ? F_OFD_SETLK : F_SETLK, reinterpret_cast<long>(&q));
        }
        if (rc == -EWOULDBLOCK || rc == -EACCES) {
            text::Builder(msg, sizeof msg).add("a file lock of the program is held by another process now: fd ").add(uint64_t(l.fd));
            refuse(msg);
        } else if (rc != 0) {
            text::Builder(msg, sizeof msg).add("cannot take the file lock again: fd ").add(uint64_t(l.fd));
            warn(msg);
        }
    }

    // A new process in the new launcher's group and session: leadership is what comes back.
    if (p.flags & kAttrsSessionLeader) {
        if (RAW0(SYS_setsid) < 0) warn("cannot become a session leader again");
    } else if (p.flags & kAttrsGroupLeader) {
        if (RAW2(SYS_setpgid, 0, 0) != 0) warn("cannot become a process group leader again");
    }
    // What is pending now is the restorer's (a rollback's process keeps its own across exec):
    // exactly the recorded signals are pending afterwards. The checkpoint signal stays ckpt's.
    uint64_t others = ~0ull & ~(1ull << (SIGKILL - 1)) & ~(1ull << (SIGSTOP - 1));
    if (ckpt_signal > 0) others &= ~(1ull << (ckpt_signal - 1));
    const long zero[2] = {0, 0};
    uint8_t info[128];
    while (RAW4(SYS_rt_sigtimedwait, &others, info, zero, 8) > 0) {
    }
    for (uint32_t i = 0; i < p.n_pending; ++i)
        if (requeue(v.pending[i]) != 0) warn("cannot queue a pending signal again");
}

void restore_credentials(const ProcessAttrsRecord &p, void (*refuse)(const char *))
{
    // Privileged steps first (they need CAP_SETPCAP, which the uid change below may take).
    for (int cap = 0; cap < 64; ++cap)
        if (!has_cap(p.cap_bounding, cap) && sys_prctl(PR_CAPBSET_READ, unsigned(cap), 0, 0, 0) == 1 &&
            sys_prctl(PR_CAPBSET_DROP, unsigned(cap), 0, 0, 0) != 0)
            refuse("cannot restore the capability bounding set");
    const uint32_t sb_now = uint32_t(sys_prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    const uint32_t sb_want = (p.securebits & ~kSecbitKeepCapsLocked) | kSecbitKeepCaps;
    if (sb_now != sb_want && sys_prctl(PR_SET_SECUREBITS, sb_want, 0, 0, 0) != 0 &&
        (p.securebits & ~(kSecbitKeepCaps | kSecbitKeepCapsLocked)) != (sb_now & ~(kSecbitKeepCaps | kSecbitKeepCapsLocked)))
        refuse("cannot restore the securebits");
    sys_prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);  // the permitted set survives the uid change
    if (RAW2(SYS_setgroups, p.n_groups, p.groups) != 0) {
        uint32_t mine[kMaxGroups];
        const long n = RAW2(SYS_getgroups, kMaxGroups, mine);
        bool same = n == long(p.n_groups);
        for (long i = 0; same && i < n; ++i) same = mine[i] == p.groups[i];
        if (!same) refuse("cannot restore the supplementary groups");
    }
    if (RAW3(SYS_setresgid, p.rgid, p.egid, p.sgid) != 0) refuse("cannot restore the group ids");
    if (RAW3(SYS_setresuid, p.ruid, p.euid, p.suid) != 0) refuse("cannot restore the user ids");
    RAW1(SYS_setfsgid, p.fsgid);
    RAW1(SYS_setfsuid, p.fsuid);
    const Caps after = get_caps();
    if ((after.effective != p.cap_effective || after.permitted != p.cap_permitted ||
         after.inheritable != p.cap_inheritable) &&
        set_caps(p.cap_effective, p.cap_permitted, p.cap_inheritable) != 0)
        refuse("cannot restore the capabilities");
    sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; cap < 64; ++cap)
        if (has_cap(p.cap_ambient, cap) && sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, unsigned(cap), 0, 0) != 0)
            refuse("cannot restore the ambient capabilities");
    // The recorded securebits exactly (keep-caps and its lock included), now that the uids are set.
    // (Without CAP_SETPCAP by now, at least the keep-caps bit, which needs none.)
    if (uint32_t(sys_prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)) != p.securebits &&
        sys_prctl(PR_SET_SECUREBITS, p.securebits, 0, 0, 0) != 0)
        sys_prctl(PR_SET_KEEPCAPS, (p.securebits & kSecbitKeepCaps) ? 1 : 0, 0, 0, 0);
    // A uid change made the process non-dumpable (and so its /proc files root's); as recorded.
    sys_prctl(PR_SET_DUMPABLE, (p.flags & kAttrsNotDumpable) ? 0 : 1, 0, 0, 0);
    if ((p.flags & kAttrsNoNewPrivs) && sys_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        refuse("cannot restore no_new_privs");
}

}  // namespace ckpt::attrs
