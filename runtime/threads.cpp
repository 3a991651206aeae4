#include "threads.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/rseq.h>
#include <ucontext.h>

#include "cpu_context.h"
#include "persistent/persist.h"
#include "glibc_stack_lock.h"
#include "runtime_state.h"
#include "sys/raw_syscall.h"
#include "text.h"

namespace ckpt::threads {
namespace {

constexpr int kFutexWait = 0 | 128;  // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
constexpr int kFutexWake = 1 | 128;
constexpr uint32_t kStopTag = 0x7e4d;  // si_value >> 16 of a stop request
constexpr uint32_t kHandoffTag = 0x7e4e;  // of a checkpoint handed to another thread
// How many times a checkpoint is handed on before its coordinator waits for the lock itself.
constexpr int kMaxHandoffs = 3;
// How long the coordinator waits for a thread that does not arrive before it refuses.
constexpr uint64_t kStopTimeoutNs = 2000000000ull;
// How long it waits for a thread inside a file-changing wrapper's section before it defers the
// checkpoint to that thread's return from the call (the other threads wait stopped meanwhile).
constexpr uint64_t kSectionWaitNs = 200000000ull;
// How long it waits for glibc's stack-cache lock before a stop (glibc_stack_lock.h).
constexpr uint64_t kStackLockWaitNs = 100000000ull;
constexpr uint64_t kHandoffAfterNs = 2000000ull;
// How long a thread that handed a checkpoint on waits, in its handler, for another thread to
// take it (see stop_others()) before it returns and may take it back itself.
constexpr uint64_t kHandoffTakenWaitNs = 10000000ull;
constexpr int kPrGetName = 16, kPrSetName = 15, kPrGetTidAddress = 40;

struct Slot {
    image::ThreadRecord rec;
    volatile int32_t arrived;  // its state is saved, it parks
    int32_t gone;              // exited before it took the request
    volatile int32_t in_section;  // took it inside a wrapper's section: stops when it leaves it
    int32_t new_tid;              // after a restore: its tid now
};

struct State {
    volatile int32_t coordinator = 0;  // tid of the coordinating thread, 0 when none
    volatile uint32_t stop_gen = 0;    // tag of the current stop (16 bits, never 0)
    volatile int32_t stopping = 0;
    volatile uint32_t release_gen = 0; // futex: bumped to let parked threads go
    volatile uint32_t parked = 0;      // futex: threads that saved their state
    volatile uint32_t resumed = 0;     // futex: restored threads back in the runtime
    volatile uint32_t go = 0;          // futex: after a restore, 1 once all may run
    int32_t n = 0;                     // slots in use (the coordinator's is slots[0])
    int32_t changed = 0;               // restored threads whose tid differs
    uint64_t stop_ns = 0;              // how long the last stop_others() took
    int32_t handoffs = 0;              // times the current checkpoint was handed on
    volatile uint32_t began = 0;       // futex: bumped by every begin() (a thread coordinates)
    volatile uint32_t began_waiters = 0;  // threads waiting on `began` (after a handoff)
    volatile int32_t requested = 0;    // a checkpoint was asked for while this one ran
    volatile int32_t deferred = 0;     // a stop gave way to a thread (it blocks the signal, or
                                       // is inside a section): its next request takes it
    Slot slots[kMaxThreads];
};

State g;

// This thread's slot during a stop: thread-local, so it is found again after a restore
// (under its old tid or a new one); TLS is memory, restored with the thread's FS base.
__thread Slot *t_slot __attribute__((tls_model("initial-exec")));
// The tag of a stop this thread was asked for inside a wrapper's section (0: none): asked
// again when the section ends (stop_owed()).
__thread uint32_t t_owed_stop __attribute__((tls_model("initial-exec")));

uint32_t load(const volatile uint32_t &w) { return __atomic_load_n(&w, __ATOMIC_ACQUIRE); }

void wake_all(volatile uint32_t &w) { sys_futex(&w, kFutexWake, 0x7fffffff, nullptr); }

void wait_while(volatile uint32_t &w, uint32_t value, int64_t timeout_ns)
{
    raw_timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
    sys_futex(&w, kFutexWait, value, timeout_ns > 0 ? &ts : nullptr);
}

uint64_t rseq_len() { return __rseq_size < 32 ? 32 : __rseq_size; }

// What the kernel keeps for this thread and memory does not hold.
void save_kernel_state(image::ThreadRecord &r)
{
    sys_arch_prctl(0x1003 /* ARCH_GET_FS */, reinterpret_cast<unsigned long>(&r.fs_base));
    if (__rseq_size > 0) {
        r.rseq_addr = r.fs_base + uint64_t(__rseq_offset);
        r.rseq_len = uint32_t(rseq_len());
        r.rseq_sig = RSEQ_SIG;
    }
    size_t len = 0;
    if (sys_get_robust_list(0, &r.robust_list, &len) == 0) r.robust_len = len;
    // glibc gives every thread clear_child_tid = &its tid in struct pthread (what pthread_join
    // waits on); PR_GET_TID_ADDRESS reads what the program actually has.
    if (sys_prctl(kPrGetTidAddress, reinterpret_cast<unsigned long>(&r.clear_child_tid), 0, 0, 0) != 0)
        r.clear_child_tid = g_rt.tid_offset ? r.fs_base + g_rt.tid_offset : 0;
    stack_t ss{};
    sys_sigaltstack(nullptr, &ss);
    r.altstack_sp = reinterpret_cast<uint64_t>(ss.ss_sp);
    r.altstack_size = ss.ss_size;
    r.altstack_flags = ss.ss_flags & ~SS_ONSTACK;
    sys_prctl(kPrGetName, reinterpret_cast<unsigned long>(r.comm), 0, 0, 0);
    const long policy = sys_sched_getscheduler(0);
    r.sched_policy = int32_t(policy);
    int prio = 0;
    if (policy >= 0 && sys_sched_getparam(0, &prio) == 0) r.sched_priority = prio;
    // getpriority() returns 20 - nice, so that no success is negative.
    const long p = sys_getpriority(0 /* PRIO_PROCESS */, 0);
    r.nice = p >= 0 ? int32_t(20 - p) : 0;
}

// Where the thread was: the signal frame of the code the stop interrupted.
void save_frame(image::ThreadRecord &r, void *uc)
{
    r.syscall = -1;
    if (!uc) return;
    const auto *u = static_cast<const ucontext_t *>(uc);
    r.ucontext = reinterpret_cast<uint64_t>(uc);
    r.ip = uint64_t(u->uc_mcontext.gregs[REG_RIP]);
    r.sp = uint64_t(u->uc_mcontext.gregs[REG_RSP]);
    r.bp = uint64_t(u->uc_mcontext.gregs[REG_RBP]);
    r.sigmask = u->uc_sigmask.__val[0];
    // A call the kernel restarts has its rip put back onto the syscall instruction (0f 05)
    // and rax = the call's number; one it ends with EINTR (a timed sleep or wait, whose
    // restart the wait wrappers make) sits just after it with rax = -EINTR: -2.
    const auto *ip = reinterpret_cast<const volatile unsigned char *>(r.ip);
    const long rax = long(u->uc_mcontext.gregs[REG_RAX]);
    if (ip[0] == 0x0f && ip[1] == 0x05) r.syscall = rax;
    else if (ip[-2] == 0x0f && ip[-1] == 0x05 && rax == -EINTR) r.syscall = -2;
}

// The thread's kernel state again, in a restored process (its registers come with sigreturn).
void restore_kernel_state(Slot &s)
{
    const image::ThreadRecord &r = s.rec;
    const int32_t tid = int32_t(sys_gettid());
    s.new_tid = tid;
    if (tid != r.tid) {
        __atomic_add_fetch(&g.changed, 1, __ATOMIC_SEQ_CST);
        // glibc caches the tid in struct pthread (raise(), mutex owners, pthread_kill).
        if (g_rt.tid_offset) *reinterpret_cast<int32_t *>(r.fs_base + g_rt.tid_offset) = tid;
    }
    if (r.clear_child_tid) sys_set_tid_address(reinterpret_cast<void *>(r.clear_child_tid));
    if (r.robust_list) sys_set_robust_list(reinterpret_cast<void *>(r.robust_list), size_t(r.robust_len));
    struct {
        uint64_t sp;
        int32_t flags, pad;
        uint64_t size;
    } ss{r.altstack_sp, r.altstack_flags, 0, r.altstack_size};
    sys_sigaltstack(&ss, nullptr);
    // Registered already (the blob does the leader's): EBUSY, harmless.
    if (r.rseq_addr) sys_rseq(reinterpret_cast<void *>(r.rseq_addr), r.rseq_len, 0, r.rseq_sig);
    sys_prctl(kPrSetName, reinterpret_cast<unsigned long>(r.comm), 0, 0, 0);
    // Real-time policies need privilege the restored process may lack: then it keeps the
    // default policy (as a program that asked without privilege would have).
    if (r.sched_policy > 0) {
        const int prio = r.sched_priority;
        sys_sched_setscheduler(0, r.sched_policy, &prio);
    }
    if (r.nice) sys_setpriority(0, 0, r.nice);
}

Slot *find(int32_t tid)
{
    for (int i = 0; i < g.n; ++i)
        if (g.slots[i].rec.tid == tid) return &g.slots[i];
    return nullptr;
}

long send_stop(int pid, int tid, uint32_t gen)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = g_rt.signal;
    si.si_code = SI_QUEUE;
    si.si_pid = pid;
    si.si_uid = 0;
    si.si_value.sival_int = int((kStopTag << 16) | gen);
    return sys_rt_tgsigqueueinfo(pid, tid, g_rt.signal, &si);
}

// Why thread `tid` has not taken its stop request: the checkpoint signal is in its kernel mask
// by the program's choice (a set that names it and is not full: signal_state.h), or because
// glibc blocks every signal for a moment (creating a thread, or a thread on its way out), or
// it is not blocked at all (the thread has not run yet).
enum class Late { NotBlocked, Deliberate, AllBlocked };

Late why_late(int32_t tid, char *buf, size_t cap)
{
    char path[64];
    text::Builder(path, sizeof path).add("/proc/self/task/").add(uint64_t(tid)).add("/status");
    long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return Late::NotBlocked;
    const long n = sys_read(int(fd), buf, cap - 1);
    sys_close(int(fd));
    if (n <= 0) return Late::NotBlocked;
    buf[n] = 0;
    const char *p = buf, *end = buf + n;
    for (; p + 8 < end; ++p)
        if (p[0] == '\n' && text::starts_with(p + 1, size_t(end - p - 1), "SigBlk:")) break;
    if (p + 8 >= end) return Late::NotBlocked;
    p += 8;
    while (p < end && (*p == '\t' || *p == ' ')) ++p;
    uint64_t mask = 0;
    for (; p < end; ++p) {
        const char c = *p;
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) break;
        mask = (mask << 4) | uint64_t(d);
    }
    if (!(mask & (1ull << (g_rt.signal - 1)))) return Late::NotBlocked;
    int bits = 0;
    for (uint64_t m = mask; m; m &= m - 1) ++bits;
    return bits < 60 ? Late::Deliberate : Late::AllBlocked;
}

// Whether thread `tid` sleeps in the futex of park() (/proc/.../syscall: "202 ..."). The
// kernel writes a thread's rseq area (its CPU number, in the TCB) whenever it returns to user
// space on another CPU; once every stopped thread sleeps in the kernel, none can until it is
// released, and the TCB pages hold still while they are saved. (Unregistering rseq around the
// stop instead, as the coordinator does for itself, ended threads with SIGSEGV on this kernel
// when they registered again inside the handler.)
bool in_syscall(int32_t tid, const char *prefix, char *buf, size_t cap)
{
    char path[64];
    text::Builder(path, sizeof path).add("/proc/self/task/").add(uint64_t(tid)).add("/syscall");
    long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return false;
    const long n = sys_read(int(fd), buf, cap - 1);
    sys_close(int(fd));
    if (n <= 0) return false;
    buf[n] = 0;
    return text::starts_with(buf, size_t(n), prefix);
}

bool in_futex_wait(int32_t tid, char *buf, size_t cap)
{
    char path[64];
    text::Builder(path, sizeof path).add("/proc/self/task/").add(uint64_t(tid)).add("/syscall");
    long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return true;  // nothing to learn: do not wait for it
    const long n = sys_read(int(fd), buf, cap - 1);
    sys_close(int(fd));
    if (n <= 0) return true;
    buf[n] = 0;
    return text::starts_with(buf, size_t(n), "202 ");
}

// A thread asked and not parked that is inside a wrapper's section, or nullptr.
Slot *in_section_thread()
{
    for (int i = 1; i < g.n; ++i) {
        Slot &s = g.slots[i];
        if (!s.gone && !__atomic_load_n(&s.arrived, __ATOMIC_ACQUIRE) && __atomic_load_n(&s.in_section, __ATOMIC_ACQUIRE))
            return &s;
    }
    return nullptr;
}

// Whether every thread asked and not parked (nor gone) has every signal blocked.
bool all_late_blocked(char *buf, size_t cap)
{
    for (int i = 1; i < g.n; ++i) {
        Slot &s = g.slots[i];
        if (s.gone || __atomic_load_n(&s.arrived, __ATOMIC_ACQUIRE)) continue;
        if (why_late(s.rec.tid, buf, cap) != Late::AllBlocked) return false;
    }
    return true;
}

// The first thread of /proc/self/task (open at `fd`), other than this one, for which
// `wanted(tid)` holds; 0 if none. `buf` holds the directory entries.
template <class Wanted>
int32_t first_task(int fd, char *buf, size_t cap, Wanted wanted)
{
    const int32_t self = int32_t(sys_gettid());
    sys_lseek(fd, 0, 0);
    for (;;) {
        const long n = sys_getdents64(fd, buf, cap);
        if (n <= 0) return 0;
        for (long off = 0; off < n;) {
            auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
            off += d->d_reclen;
            const char *p = d->d_name, *end = p + text::length(p);
            uint64_t v = 0;
            if (!text::parse_u64(p, end, v) || p != end || v == 0) continue;
            if (int32_t(v) != self && wanted(int32_t(v))) return int32_t(v);
        }
    }
}

// Whether /proc/self/task (open at `fd`) lists a thread that has no slot yet.
bool unlisted_threads(int fd, char *buf, size_t cap)
{
    return first_task(fd, buf, cap, [](int32_t tid) { return !find(tid); }) != 0;
}

// A thread of /proc/self/task (open at `fd`) other than this one, 0 if none.
int32_t other_thread(int fd, char *buf, size_t cap)
{
    return first_task(fd, buf, cap, [](int32_t) { return true; });
}

// Lets the parked threads of the current stop go; the coordinator stays.
void end_stop()
{
    __atomic_store_n(&g.stopping, 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g.release_gen, 1, __ATOMIC_SEQ_CST);
    wake_all(g.release_gen);
    __atomic_store_n(&g.go, 1, __ATOMIC_SEQ_CST);
    wake_all(g.go);
}

// A new stop by the same coordinator (a new tag: requests of the old one are ignored).
void new_stop()
{
    g.n = 1;
    g.parked = 0;
    g.resumed = 0;
    g.go = 0;
    g.changed = 0;
    uint32_t gen = (g.stop_gen + 1) & 0xffffu;
    g.stop_gen = gen ? gen : 1;
    __atomic_store_n(&g.stopping, 1, __ATOMIC_SEQ_CST);
}

// Parks until the coordinator bumps release_gen past `seen`.
void park(uint32_t seen)
{
    while (load(g.release_gen) == seen) wait_while(g.release_gen, seen, 0);
}

// Queues the checkpoint signal to the process, tagged as handed on (`hops` times).
void hand_on(int hops)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = g_rt.signal;
    si.si_code = SI_QUEUE;
    si.si_pid = int(sys_getpid());
    si.si_value.sival_int = int((kHandoffTag << 16) | uint32_t(hops));
    // Blocked in this thread until its handler returns: another one takes it if it can.
    sys_rt_sigqueueinfo(int(sys_getpid()), g_rt.signal, &si);
}

}  // namespace

int handoffs(const siginfo_t *si)
{
    if (!si || si->si_code != SI_QUEUE || (uint32_t(si->si_value.sival_int) >> 16) != kHandoffTag ||
        si->si_pid != int(sys_getpid()))
        return 0;
    return int(uint32_t(si->si_value.sival_int) & 0xffffu);
}

bool is_stop_request(const siginfo_t *si)
{
    return si && si->si_code == SI_QUEUE && (uint32_t(si->si_value.sival_int) >> 16) == kStopTag &&
           si->si_pid == int(sys_getpid());
}

bool on_stop_request(const siginfo_t *si, void *uc)
{
    const uint32_t gen = uint32_t(si->si_value.sival_int) & 0xffffu;
    if (!__atomic_load_n(&g.stopping, __ATOMIC_ACQUIRE) || gen != g.stop_gen)
        return __atomic_exchange_n(&g.deferred, 0, __ATOMIC_SEQ_CST) != 0;
    Slot *s = find(int32_t(sys_gettid()));
    if (!s || s->arrived) return false;
    // Between a wrapper's check (and record) and its change: stopped here, the change would
    // fall after the checkpoint, unrecorded in its epoch. It stops when the section ends.
    if (persist::defer_to_section_end()) {
        t_owed_stop = gen;
        __atomic_store_n(&s->in_section, 1, __ATOMIC_RELEASE);
        return false;
    }
    t_slot = s;
    image::ThreadRecord &r = s->rec;
    save_frame(r, uc);
    const uint32_t seen = load(g.release_gen);
    // The stop may have ended between the check above and this read (the coordinator gave
    // up, or starts over): release() ends `stopping` before it bumps release_gen.
    if (!__atomic_load_n(&g.stopping, __ATOMIC_SEQ_CST) || gen != g.stop_gen) return false;
    if (ckpt_context_save(&r.context) == 0) {
        save_kernel_state(r);
        __atomic_store_n(&s->arrived, 1, __ATOMIC_RELEASE);
        __atomic_add_fetch(&g.parked, 1, __ATOMIC_SEQ_CST);
        wake_all(g.parked);
        park(seen);
        return false;
    }
    // Restored: the blob cloned this thread into the context above.
    Slot *me = t_slot;
    restore_kernel_state(*me);
    __atomic_add_fetch(&g.resumed, 1, __ATOMIC_SEQ_CST);
    wake_all(g.resumed);
    while (load(g.go) == 0) wait_while(g.go, 0, 0);
    // As in the coordinator: a new launcher's checkpoint signal must not stay blocked.
    if (uc && g_rt.signal > 0)
        static_cast<ucontext_t *>(uc)->uc_sigmask.__val[0] &= ~(1ull << (g_rt.signal - 1));
    return false;
}

bool stop_owed()
{
    const uint32_t gen = t_owed_stop;
    if (!gen) return false;
    t_owed_stop = 0;
    // Parks if that stop still waits, else (it gave way: `deferred`) takes the checkpoint.
    send_stop(int(sys_getpid()), int(sys_gettid()), gen);
    return true;
}

bool begin(void *uc, int handed)
{
    const int32_t self = int32_t(sys_gettid());
    int32_t none = 0;
    if (!__atomic_compare_exchange_n(&g.coordinator, &none, self, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return false;
    __atomic_add_fetch(&g.began, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&g.began_waiters, __ATOMIC_SEQ_CST)) wake_all(g.began);
    g.handoffs = handed;
    Slot &s = g.slots[0];
    memset(&s, 0, sizeof s);
    s.rec.tid = self;
    s.rec.flags = image::kThreadCoordinator;
    s.arrived = 1;
    t_slot = &s;
    save_frame(s.rec, uc);
    new_stop();
    return true;
}

void wait_for_other_coordinator()
{
    for (;;) {
        const int32_t c = __atomic_load_n(&g.coordinator, __ATOMIC_ACQUIRE);
        if (c == 0 || c == int32_t(sys_gettid())) return;
        // Polled: the coordinator word is not a futex word of its own.
        raw_timespec ts{0, 200000};
        RAW2(SYS_nanosleep, &ts, nullptr);
    }
}

CaptureError stop_others()
{
    CaptureError err;
    const int pid = int(sys_getpid());
    const int32_t self = int32_t(sys_gettid());
    long fd = sys_openat(AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
        err.err = int(-fd);
        err.what = "cannot list the threads (/proc/self/task)";
        release();
        return err;
    }
    const uint64_t t0 = sys_monotonic_ns();
    const uint64_t deadline = t0 + kStopTimeoutNs;
    char buf[2048];
    int rounds = 0, retries = 0;
    uint64_t section_wait_start = 0;
    // No thread is stopped inside glibc's stack-cache lock while this thread holds it
    // (glibc_stack_lock.h). Not free within 100 ms (a holder not scheduled, or this thread's
    // own interrupted code holds it): the stop goes on without it, with the retries below.
    // The lock not free for 2 ms: perhaps this thread's own interrupted code holds it (glibc
    // frees cached stacks with munmap inside it), and then no stop could complete here. The
    // checkpoint is handed on to the process (queued to it, not to one thread, which could
    // exit first): another thread takes it, and sleeps on the lock until this one, back in
    // its code, gives it back. Without other threads the lock does not matter.
    const bool threaded = other_thread(int(fd), buf, sizeof buf) != 0;
    const bool may_hand_on = threaded && glibc_stack_lock::known() && g.handoffs < kMaxHandoffs;
    bool stack_lock = threaded && glibc_stack_lock::take(may_hand_on ? kHandoffAfterNs : kStackLockWaitNs);
    if (!stack_lock && may_hand_on) {
        sys_close(int(fd));
        const int hops = g.handoffs + 1;
        const uint32_t began = load(g.began);
        release();  // first: the next thread becomes the coordinator
        __atomic_add_fetch(&g.began_waiters, 1, __ATOMIC_SEQ_CST);
        hand_on(hops);
        // Returning at once, this thread would most often take the checkpoint back itself:
        // the queued signal is the process's, and this thread dequeues it on its very
        // rt_sigreturn, before the thread the kernel woke for it runs; its interrupted code
        // (still holding the lock) would not have run in between, and every hop would come
        // back here. So it waits, the signal still blocked, until another thread has begun
        // (it then waits for the lock that this thread's code gives back), at most 10 ms
        // (no other thread takes signals: the next hop is this thread's again).
        const uint64_t until = sys_monotonic_ns() + kHandoffTakenWaitNs;
        for (;;) {
            const uint64_t now = sys_monotonic_ns();
            if (load(g.began) != began || now >= until) break;
            wait_while(g.began, began, int64_t(until - now));
        }
        __atomic_sub_fetch(&g.began_waiters, 1, __ATOMIC_SEQ_CST);
        err.err = EINPROGRESS;
        err.what = "handed on";
        return err;
    }
    for (;;) {
        bool added = false, restart = false;
        sys_lseek(int(fd), 0, 0);
        for (;;) {
            const long n = sys_getdents64(int(fd), buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
                off += d->d_reclen;
                const char *p = d->d_name, *end = p + text::length(p);
                uint64_t v = 0;
                if (!text::parse_u64(p, end, v) || p != end || v == 0) continue;
                const int32_t tid = int32_t(v);
                if (tid == self || find(tid)) continue;
                if (g.n == kMaxThreads) {
                    err.err = EOPNOTSUPP;
                    err.what = "the process has more threads than ckpt handles";
                    text::Builder(err.detail, sizeof err.detail).add(uint64_t(kMaxThreads)).add(" at most");
                    goto fail;
                }
                Slot &s = g.slots[g.n];
                memset(&s, 0, sizeof s);
                s.rec.tid = tid;
                if (tid == pid) s.rec.flags = image::kThreadMain;
                __atomic_store_n(&g.n, g.n + 1, __ATOMIC_RELEASE);
                const long rc = send_stop(pid, tid, g.stop_gen);
                if (rc == -ESRCH) s.gone = 1;
                added = true;
            }
        }
        // Every thread asked so far has parked, or exited (a thread already in its exit path
        // has every signal blocked: it is waited for until it is gone).
        for (;;) {
            const uint32_t seen = load(g.parked);
            Slot *late = nullptr;
            for (int i = 1; i < g.n; ++i) {
                Slot &s = g.slots[i];
                if (s.gone || __atomic_load_n(&s.arrived, __ATOMIC_ACQUIRE)) continue;
                if (sys_tgkill(pid, s.rec.tid, 0) == -ESRCH) s.gone = 1;
                else late = &s;
            }
            if (!late) break;
            // A thread inside a wrapper's section stops when it leaves it; if that takes
            // long (a write blocked on a pipe), the checkpoint is its to take when it does.
            if (Slot *busy = in_section_thread()) {
                const uint64_t now = sys_monotonic_ns();
                if (!section_wait_start) section_wait_start = now;
                if (now - section_wait_start > kSectionWaitNs) {
                    __atomic_store_n(&g.deferred, 1, __ATOMIC_SEQ_CST);
                    err.err = EAGAIN;
                    err.what = "a thread of the program is inside a file-changing call that has not returned: "
                               "taken when it returns";
                    text::Builder(err.detail, sizeof err.detail).add("thread ").add(uint64_t(busy->rec.tid));
                    goto fail;
                }
            }
            if (++rounds % 8 == 0) {
                // Every thread not parked yet has every signal blocked (on its way out, or
                // creating a thread): none of those can be stopped, and the parked ones can
                // take the lock no more. Give it back, so that an exiting thread can finish,
                // once a listing shows no thread that has not been asked yet (else ask those
                // first).
                if (stack_lock && all_late_blocked(buf, sizeof buf)) {
                    if (unlisted_threads(int(fd), buf, sizeof buf)) {
                        restart = true;
                        break;
                    }
                    glibc_stack_lock::drop();
                    stack_lock = false;
                    continue;
                }
                const Late why = why_late(late->rec.tid, buf, sizeof buf);
                // Blocked by the program's choice: the checkpoint waits until it unblocks it
                // (its stop request, still pending, then takes it), as in a single-threaded
                // program.
                if (why == Late::Deliberate) {
                    __atomic_store_n(&g.deferred, 1, __ATOMIC_SEQ_CST);
                    err.err = EAGAIN;
                    err.what = "a thread of the program blocks the checkpoint signal: taken when it unblocks it";
                    text::Builder(err.detail, sizeof err.detail).add("thread ").add(uint64_t(late->rec.tid));
                    goto fail;
                }
                // glibc blocked everything and waits for a lock (the stack cache, when a
                // thread ends) that a stopped thread holds: it would wait for ever. Let them
                // all go for a moment and stop again.
                // Every signal blocked and waiting for one (glibc's SIGEV_THREAD timer helper):
                // it never takes the request.
                if (why == Late::AllBlocked && in_syscall(late->rec.tid, "128 ", buf, sizeof buf)) {
                    err.err = EOPNOTSUPP;
                    err.what = "a thread blocks every signal and waits for one (sigwaitinfo)";
                    text::Builder(err.detail, sizeof err.detail).add("thread ").add(uint64_t(late->rec.tid));
                    goto fail;
                }
                if (!stack_lock && why == Late::AllBlocked && in_futex_wait(late->rec.tid, buf, sizeof buf) &&
                    retries < 50) {
                    ++retries;
                    end_stop();
                    // Until that thread has its lock (it sleeps no more), at most 50 ms.
                    const int32_t tid = late->rec.tid;
                    for (int k = 0; k < 500 && in_futex_wait(tid, buf, sizeof buf); ++k) {
                        raw_timespec ts{0, 100000};
                        RAW2(SYS_nanosleep, &ts, nullptr);
                    }
                    new_stop();
                    stack_lock = glibc_stack_lock::take(kStackLockWaitNs);
                    restart = true;
                    break;
                }
            }
            if (sys_monotonic_ns() > deadline) {
                err.err = EOPNOTSUPP;
                err.what = late->rec.tid == pid ? "the main thread has exited while others run"
                                                : "a thread does not take the checkpoint signal";
                text::Builder(err.detail, sizeof err.detail).add("thread ").add(uint64_t(late->rec.tid));
                goto fail;
            }
            wait_while(g.parked, seen, 200000);
        }
        if (restart) continue;
        if (!added) break;
    }
    if (stack_lock) glibc_stack_lock::drop();
    for (int i = 1; i < g.n; ++i) {
        Slot &s = g.slots[i];
        while (!s.gone && !in_futex_wait(s.rec.tid, buf, sizeof buf)) {
            raw_timespec ts{0, 20000};
            RAW2(SYS_nanosleep, &ts, nullptr);
        }
    }
    sys_close(int(fd));
    if (self == pid) g.slots[0].rec.flags |= image::kThreadMain;
    g.stop_ns = sys_monotonic_ns() - t0;
    return err;
fail:
    if (stack_lock) glibc_stack_lock::drop();
    sys_close(int(fd));
    release();
    return err;
}

CaptureError capture(CaptureSet &set)
{
    CaptureError err;
    Slot &me = g.slots[0];
    save_kernel_state(me.rec);
    me.rec.context = g_rt.ctx;
    me.rec.stop_ns = g.stop_ns;
    for (int i = 0; i < g.n; ++i) {
        if (g.slots[i].gone) continue;
        image::ThreadRecord *r = set.threads.push();
        if (!r) {
            err.err = ENOMEM;
            err.what = "out of memory for the thread records";
            return err;
        }
        *r = g.slots[i].rec;
    }
    return err;
}

void release()
{
    end_stop();
    // Last: a new coordinator may begin only once this stop's threads are let go.
    __atomic_store_n(&g.coordinator, 0, __ATOMIC_SEQ_CST);
    // The launcher's next request reached another thread before this point: its checkpoint.
    if (__atomic_exchange_n(&g.requested, 0, __ATOMIC_SEQ_CST)) hand_on(1);
}

bool begin_or_request(void *uc, int handed)
{
    if (begin(uc, handed)) return true;
    __atomic_store_n(&g.requested, 1, __ATOMIC_SEQ_CST);
    // The coordinator may have ended meanwhile, before it could see the request.
    if (!begin(uc, handed)) return false;
    __atomic_store_n(&g.requested, 0, __ATOMIC_SEQ_CST);
    return true;
}

void await_restored()
{
    __atomic_store_n(&g.requested, 0, __ATOMIC_SEQ_CST);  // asked of the old process
    int others = 0;
    for (int i = 1; i < g.n; ++i) others += g.slots[i].gone ? 0 : 1;
    for (;;) {
        const uint32_t back = load(g.resumed);
        if (int(back) >= others) break;
        wait_while(g.resumed, back, 0);
    }
    restore_kernel_state(*t_slot);
}

bool find_tid_lock(uint64_t restorer_lo, uint64_t restorer_len, tid_locks::Found &out)
{
    static int32_t old[kMaxThreads];
    static uint64_t robust[kMaxThreads];
    int n = 0, m = 0;
    for (int i = 0; i < g.n; ++i) {
        const Slot &s = g.slots[i];
        if (s.gone) continue;
        if (s.new_tid != s.rec.tid) old[n++] = s.rec.tid;
        robust[m++] = s.rec.robust_list;
    }
    // The thread records (here and in the restorer's area) hold the old ids.
    const tid_locks::Range own[] = {{reinterpret_cast<uint64_t>(&g), reinterpret_cast<uint64_t>(&g + 1)},
                                    {restorer_lo, restorer_lo + restorer_len}};
    return tid_locks::find(old, n, robust, m, own, 2, out);
}

int stopped_count()
{
    int n = 0;
    for (int i = 0; i < g.n; ++i) n += g.slots[i].gone ? 0 : 1;
    return n;
}

int changed_tids() { return __atomic_load_n(&g.changed, __ATOMIC_SEQ_CST); }

}  // namespace ckpt::threads
