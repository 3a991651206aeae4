#include "ckptctl_inspect_attrs.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ckptctl_commands.h"
#include "duration.h"
#include "process_attrs.h"
#include "world.h"

namespace ckptctl {

using namespace ckpt;
using namespace ckpt::image;

namespace {

const char *const kLimitNames[kNumRlimits] = {"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
                                              "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE",
                                              "RTPRIO", "RTTIME"};
const char *const kItimerNames[3] = {"ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"};

bool set_by_program(const ProcessAttrsRecord &p, uint32_t r)
{
    return p.rlimits[r].cur != p.inherited_rlimits[r].cur || p.rlimits[r].max != p.inherited_rlimits[r].max;
}

std::string limit(uint64_t v) { return v == ~0ull ? "unlimited" : std::to_string(v); }

std::string ids(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return std::to_string(a) + "/" + std::to_string(b) + "/" + std::to_string(c) + " (fs " + std::to_string(d) + ")";
}

std::string groups(const ProcessAttrsRecord &p)
{
    std::string s;
    for (uint32_t i = 0; i < p.n_groups; ++i) s += (s.empty() ? "" : " ") + std::to_string(p.groups[i]);
    return s.empty() ? "none" : s;
}

std::string itimer(const ItimerRecord &t)
{
    if (!t.value_ns) return "disarmed";
    return format_ns(t.value_ns) + " left" + (t.interval_ns ? ", every " + format_ns(t.interval_ns) : "");
}

std::string notify(const PosixTimerRecord &t)
{
    const int kind = t.notify & ~SIGEV_THREAD_ID;
    std::string s = kind == SIGEV_NONE ? "none" : signal_name(t.signo);
    if (t.notify & SIGEV_THREAD_ID) s += " to the thread";
    return s;
}

const char *lock_kind(LockKind k) { return k == LockKind::Flock ? "flock" : k == LockKind::Posix ? "fcntl" : "OFD"; }

std::string lock_range(const FileLockRecord &l)
{
    if (l.kind == LockKind::Flock) return "whole file";
    return std::to_string(l.start) + (l.len ? "-" + std::to_string(l.start + l.len - 1) : "-EOF");
}

std::string hex_bytes(const uint8_t *b, size_t n)
{
    std::string s;
    char two[3];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(two, sizeof two, "%02x", b[i]);
        s += two;
    }
    return s;
}

std::string session(const ProcessAttrsRecord &p)
{
    return "pgid " + std::to_string(p.pgid) + ", sid " + std::to_string(p.sid) +
           ((p.flags & kAttrsSessionLeader) ? " (session leader)" : (p.flags & kAttrsGroupLeader) ? " (group leader)" : "");
}

}  // namespace

void print_attrs_text(const Image &img)
{
    auto line = [](const char *label, const std::string &value) { std::printf("  %-16s%s\n", label, value.c_str()); };
    attrs::View v;
    std::printf("\nProcess attributes\n");
    if (img.attrs.empty() || !attrs::parse(img.attrs.data(), img.attrs.size(), v)) {
        std::printf("  not recorded (image format %u)\n", img.header.format_version);
    } else {
        const ProcessAttrsRecord &p = *v.proc;
        line("uids r/e/s", ids(p.ruid, p.euid, p.suid, p.fsuid));
        line("gids r/e/s", ids(p.rgid, p.egid, p.sgid, p.fsgid));
        line("groups", groups(p));
        line("capabilities", "effective " + format_hex(p.cap_effective) + ", permitted " + format_hex(p.cap_permitted) +
                                 ", inheritable " + format_hex(p.cap_inheritable));
        line("", "bounding " + format_hex(p.cap_bounding) + ", ambient " + format_hex(p.cap_ambient) +
                     ", securebits " + format_hex(p.securebits));
        line("no_new_privs", (p.flags & kAttrsNoNewPrivs) ? "yes" : "no");
        line("dumpable", (p.flags & kAttrsNotDumpable) ? "no" : "yes");
        line("nice", std::to_string(p.nice));
        line("personality", format_hex(p.personality));
        line("session", session(p));
        line("pdeathsig", p.pdeathsig ? signal_name(p.pdeathsig) : "none");
        for (int w = 0; w < 3; ++w) line(kItimerNames[w], itimer(p.itimers[w]));
        for (uint32_t i = 0; i < p.n_threads; ++i)
            line("thread", "tid " + std::to_string(v.threads[i].tid) + ", name " +
                               std::string(v.threads[i].comm, strnlen(v.threads[i].comm, 16)));
        Table lim({"RLIMIT", "SOFT", "HARD", "RESTORED"});
        lim.align_right(1);
        lim.align_right(2);
        for (uint32_t r = 0; r < kNumRlimits; ++r)
            lim.add({kLimitNames[r], limit(p.rlimits[r].cur), limit(p.rlimits[r].max),
                     set_by_program(p, r) ? "as set by the program" : "the environment's"});
        std::printf("\nResource limits\n%s", lim.str().c_str());
        std::printf("\nPOSIX timers (%u)\n", p.n_timers);
        if (p.n_timers) {
            Table t({"ID", "CLOCK", "NOTIFY", "VALUE", "LEFT", "INTERVAL"});
            for (uint32_t i = 0; i < p.n_timers; ++i) {
                const PosixTimerRecord &x = v.timers[i];
                t.add({std::to_string(x.id), std::to_string(x.clock), notify(x), format_hex(x.value),
                       x.value_ns ? format_ns(x.value_ns) : "disarmed", format_ns(x.interval_ns)});
            }
            std::printf("%s", t.str().c_str());
        }
        std::printf("\nFile locks (%u)\n", p.n_locks);
        if (p.n_locks) {
            Table t({"FD", "KIND", "TYPE", "RANGE"});
            for (uint32_t i = 0; i < p.n_locks; ++i) {
                const FileLockRecord &l = v.locks[i];
                t.add({std::to_string(l.fd), lock_kind(l.kind), l.type == F_WRLCK ? "write" : "read", lock_range(l)});
            }
            std::printf("%s", t.str().c_str());
        }
        std::printf("\nPending signals (%u)\n", p.n_pending);
        if (p.n_pending) {
            Table t({"SIGNAL", "QUEUE", "CODE", "FROM PID"});
            for (uint32_t i = 0; i < p.n_pending; ++i) {
                const PendingSignalRecord &s = v.pending[i];
                siginfo_t si;
                std::memcpy(&si, s.siginfo, sizeof si);
                t.add({signal_name(s.signo), s.thread ? "thread" : "process", std::to_string(si.si_code),
                       std::to_string(si.si_pid)});
            }
            std::printf("%s", t.str().c_str());
        }
    }
    std::printf("\nWorld\n");
    if (!img.has_world) {
        std::printf("  not recorded (image format %u)\n", img.header.format_version);
        return;
    }
    const WorldRecord &w = img.world;
    line("kernel", w.kernel_release);
    line("vdso", format_size(w.vdso_size) + ", xxh3 " + format_hex(w.vdso_hash));
    line("XCR0", format_hex(w.xcr0));
    for (unsigned i = 0; i < 8; ++i) line(i == 0 ? "CPUID" : "", std::string(world::cpuid_word_name(i)) + " " + format_hex(w.cpuid[i]));
    line("glibc", std::string(w.glibc_version) + ", build-id " + hex_bytes(w.libc_build_id, w.libc_build_id_len));
    line("rseq", "feature size " + std::to_string(w.rseq_feature_size));
}

void attrs_json(JsonWriter &j, const Image &img)
{
    attrs::View v;
    j.key("attributes");
    if (img.attrs.empty() || !attrs::parse(img.attrs.data(), img.attrs.size(), v)) {
        j.null();
    } else {
        const ProcessAttrsRecord &p = *v.proc;
        j.begin_object();
        j.key("uids").begin_array().value(p.ruid).value(p.euid).value(p.suid).end_array().field("fsuid", p.fsuid);
        j.key("gids").begin_array().value(p.rgid).value(p.egid).value(p.sgid).end_array().field("fsgid", p.fsgid);
        j.key("groups").begin_array();
        for (uint32_t i = 0; i < p.n_groups; ++i) j.value(p.groups[i]);
        j.end_array();
        j.key("capabilities").begin_object();
        j.field("effective", format_hex(p.cap_effective)).field("permitted", format_hex(p.cap_permitted));
        j.field("inheritable", format_hex(p.cap_inheritable)).field("bounding", format_hex(p.cap_bounding));
        j.field("ambient", format_hex(p.cap_ambient)).field("securebits", p.securebits);
        j.end_object();
        j.field("no_new_privs", bool(p.flags & kAttrsNoNewPrivs)).field("dumpable", !(p.flags & kAttrsNotDumpable));
        j.field("nice", p.nice).field("personality", p.personality);
        j.field("pid", p.pid).field("pgid", p.pgid).field("sid", p.sid);
        j.field("session_leader", bool(p.flags & kAttrsSessionLeader)).field("group_leader", bool(p.flags & kAttrsGroupLeader));
        j.field("pdeathsig", p.pdeathsig);
        j.key("rlimits").begin_object();
        for (uint32_t r = 0; r < kNumRlimits; ++r) {
            j.key(std::string("RLIMIT_") + kLimitNames[r]).begin_object();
            j.key("soft");
            if (p.rlimits[r].cur == ~0ull) j.null(); else j.value(p.rlimits[r].cur);
            j.key("hard");
            if (p.rlimits[r].max == ~0ull) j.null(); else j.value(p.rlimits[r].max);
            j.field("set_by_program", set_by_program(p, r));
            j.end_object();
        }
        j.end_object();
        j.key("itimers").begin_object();
        for (int w = 0; w < 3; ++w) {
            j.key(kItimerNames[w]).begin_object();
            j.field("value_ns", p.itimers[w].value_ns).field("interval_ns", p.itimers[w].interval_ns);
            j.end_object();
        }
        j.end_object();
        j.key("threads").begin_array();
        for (uint32_t i = 0; i < p.n_threads; ++i) {
            j.begin_object().field("tid", v.threads[i].tid);
            j.field("name", std::string(v.threads[i].comm, strnlen(v.threads[i].comm, 16))).end_object();
        }
        j.end_array();
        j.key("posix_timers").begin_array();
        for (uint32_t i = 0; i < p.n_timers; ++i) {
            const PosixTimerRecord &x = v.timers[i];
            j.begin_object().field("id", x.id).field("clock", x.clock).field("notify", notify(x));
            j.field("signal", x.signo).field("value", format_hex(x.value));
            j.field("value_ns", x.value_ns).field("interval_ns", x.interval_ns).end_object();
        }
        j.end_array();
        j.key("file_locks").begin_array();
        for (uint32_t i = 0; i < p.n_locks; ++i) {
            const FileLockRecord &l = v.locks[i];
            j.begin_object().field("fd", l.fd).field("kind", lock_kind(l.kind));
            j.field("type", l.type == F_WRLCK ? "write" : "read").field("start", l.start).field("len", l.len).end_object();
        }
        j.end_array();
        j.key("pending_signals").begin_array();
        for (uint32_t i = 0; i < p.n_pending; ++i) {
            const PendingSignalRecord &s = v.pending[i];
            siginfo_t si;
            std::memcpy(&si, s.siginfo, sizeof si);
            j.begin_object().field("signal", signal_name(s.signo)).field("number", s.signo);
            j.field("queue", s.thread ? "thread" : "process").field("code", si.si_code).field("pid", si.si_pid).end_object();
        }
        j.end_array();
        j.end_object();
    }
    j.key("world");
    if (!img.has_world) {
        j.null();
        return;
    }
    const WorldRecord &w = img.world;
    j.begin_object();
    j.field("kernel_release", std::string(w.kernel_release)).field("vdso_size", w.vdso_size);
    j.field("vdso_hash", format_hex(w.vdso_hash)).field("xcr0", format_hex(w.xcr0));
    j.key("cpuid").begin_object();
    for (unsigned i = 0; i < 8; ++i) j.field(world::cpuid_word_name(i), format_hex(w.cpuid[i]));
    j.end_object();
    j.field("glibc_version", std::string(w.glibc_version));
    j.field("libc_build_id", hex_bytes(w.libc_build_id, w.libc_build_id_len));
    j.field("rseq_feature_size", w.rseq_feature_size);
    j.end_object();
}

}  // namespace ckptctl
