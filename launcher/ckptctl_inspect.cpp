// ckptctl inspect IMAGE|NAME|NAME:VERSION [--json]: what an image holds, from its header and
// metadata (page data is not read; `ckptctl verify` checks it).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "ckptctl_backtrace.h"
#include "chain_reader.h"
#include "ckptctl_commands.h"
#include "pct_reader.h"
#include "ckptctl_inspect_attrs.h"
#include "ckptctl_json.h"
#include "duration.h"
#include "exit_codes.h"
#include "fd/fd_kind.h"

namespace ckptctl {

using namespace ckpt;
using namespace ckpt::image;

namespace {

struct FlagName {
    uint64_t bits;
    const char *name;
};

// Flag bits in words, "A|B|0x40" for bits without a name; `none` when nothing is set.
std::string flag_words(uint64_t value, const FlagName *names, size_t n, const char *none)
{
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        if ((value & names[i].bits) != names[i].bits) continue;
        out += (out.empty() ? "" : "|") + std::string(names[i].name);
        value &= ~names[i].bits;
    }
    if (value) out += (out.empty() ? "" : "|") + format_hex(value);
    return out.empty() ? none : out;
}

// F_GETFL as the kernel reports it on x86-64 (where glibc defines O_LARGEFILE as 0, but the
// kernel still sets its bit on every file it opens).
std::string open_flag_words(uint32_t flags)
{
    static constexpr uint64_t kLargeFile = 0100000;
    static const FlagName names[] = {
        {O_TMPFILE, "O_TMPFILE"}, {O_SYNC, "O_SYNC"}, {O_DSYNC, "O_DSYNC"}, {O_APPEND, "O_APPEND"},
        {O_NONBLOCK, "O_NONBLOCK"}, {O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"},
        {O_TRUNC, "O_TRUNC"}, {O_ASYNC, "O_ASYNC"}, {O_DIRECT, "O_DIRECT"}, {kLargeFile, "O_LARGEFILE"},
        {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
        {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},
    };
    const uint32_t acc = flags & O_ACCMODE;
    std::string out = acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_ACCMODE";
    const std::string rest = flag_words(flags & ~uint32_t(O_ACCMODE), names, std::size(names), "");
    return rest.empty() ? out : out + "|" + rest;
}

// The kernel's sa_flags (include/uapi/asm-generic/signal-defs.h, x86 SA_RESTORER).
std::string sa_flag_words(uint64_t flags)
{
    static const FlagName names[] = {
        {0x1, "SA_NOCLDSTOP"}, {0x2, "SA_NOCLDWAIT"}, {0x4, "SA_SIGINFO"}, {0x400, "SA_UNSUPPORTED"},
        {0x800, "SA_EXPOSE_TAGBITS"}, {0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"},
        {0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"},
    };
    return flag_words(flags, names, std::size(names), "0");
}

// A kernel sigset (bit N-1 = signal N) as names; large sets as "all but ...".
std::string sigmask_words(uint64_t mask)
{
    if (mask == 0) return "none";
    int count = 0;
    for (int s = 1; s <= 64; ++s) count += (mask >> (s - 1)) & 1;
    std::string out;
    if (count > 32) {
        for (int s = 1; s <= 64; ++s)
            if (!((mask >> (s - 1)) & 1) && s != SIGKILL && s != SIGSTOP)
                out += (out.empty() ? "" : ", ") + signal_name(s);
        return out.empty() ? "all" : "all but " + out;
    }
    for (int s = 1; s <= 64; ++s)
        if ((mask >> (s - 1)) & 1) out += (out.empty() ? "" : ", ") + signal_name(s);
    return out;
}

const char *kind_name(RegionKind k)
{
    switch (k) {
    case RegionKind::Anonymous: return "anon";
    case RegionKind::File: return "file";
    case RegionKind::Special: return "special";
    }
    return "?";
}

const char *fd_kind_name(const FdEntry &f)
{
    const fd::KindOps *k = fd::kind_ops(f.c.kind);
    return k ? k->name : "?";
}

// What the descriptor's kind says about it (fd/kind_*.cpp, describe).
std::string fd_detail(const FdEntry &f)
{
    const fd::KindOps *k = fd::kind_ops(f.c.kind);
    if (!k) return {};
    // The payload as the kind expects it: aligned, and no shorter than it reads.
    std::vector<uint64_t> payload(f.payload.size() / 8 + 2, 0);
    std::memcpy(payload.data(), f.payload.data(), f.payload.size());
    char buf[256];
    text::Builder b(buf, sizeof buf);
    k->describe(f.c, payload.data(), b);
    return buf;
}

// "fd 3" when the record shares another's open file description, "-" otherwise.
std::string shares_string(const Image &img, const FdEntry &f, size_t i)
{
    if (f.c.shares_with == i || f.c.shares_with >= img.fds.size()) return "-";
    return "fd " + std::to_string(img.fds[f.c.shares_with].c.fd);
}

std::string prot_string(const RegionRecord &r)
{
    std::string s = "----";
    if (r.prot & PROT_READ) s[0] = 'r';
    if (r.prot & PROT_WRITE) s[1] = 'w';
    if (r.prot & PROT_EXEC) s[2] = 'x';
    s[3] = (r.flags & kRegionShared) ? 's' : 'p';
    return s;
}

std::string range_string(const RegionRecord &r)
{
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llx-%llx", static_cast<unsigned long long>(r.start),
                  static_cast<unsigned long long>(r.end));
    return buf;
}

std::string handler_string(uint64_t handler)
{
    if (handler == uint64_t(uintptr_t(SIG_IGN))) return "SIG_IGN";
    if (handler == uint64_t(uintptr_t(SIG_DFL))) return "SIG_DFL";
    return format_hex(handler);
}

std::string umask_string(uint32_t umask)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", umask & 07777);
    return buf;
}

std::string altstack_string(const ProcessRecord &p)
{
    if (p.altstack_flags & SS_DISABLE) return "disabled";
    return format_hex(p.altstack_sp) + ", " + format_size(p.altstack_size) +
           (p.altstack_flags ? ", flags " + format_hex(uint64_t(uint32_t(p.altstack_flags))) : "");
}

bool is_default(const SigactionRecord &s) { return s.handler == uint64_t(uintptr_t(SIG_DFL)); }

// The system calls a stopped thread is most often found in (x86-64 numbers).
std::string syscall_name(int64_t nr)
{
    if (nr == -2) return "interrupted (EINTR)";
    if (nr < 0) return "-";
    static const struct { int64_t nr; const char *name; } names[] = {
        {0, "read"}, {1, "write"}, {7, "poll"}, {17, "pread64"}, {18, "pwrite64"}, {23, "select"},
        {34, "pause"}, {35, "nanosleep"}, {43, "accept"}, {45, "recvfrom"}, {61, "wait4"}, {202, "futex"},
        {219, "restart_syscall"}, {230, "clock_nanosleep"}, {232, "epoll_wait"}, {270, "pselect6"},
        {271, "ppoll"}, {281, "epoll_pwait"}, {288, "accept4"}, {128, "rt_sigtimedwait"}, {130, "rt_sigsuspend"},
    };
    for (const auto &n : names)
        if (n.nr == nr) return n.name;
    return "syscall " + std::to_string(nr);
}

std::string thread_role(const ThreadRecord &t)
{
    std::string r;
    if (t.flags & kThreadMain) r = "main";
    if (t.flags & kThreadCoordinator) r += r.empty() ? "checkpoint" : ", checkpoint";
    return r.empty() ? "-" : r;
}

std::string thread_name(const ThreadRecord &t) { return printable(std::string(t.comm, strnlen(t.comm, sizeof t.comm))); }

std::string frame_string(const Frame &f)
{
    std::string s = format_hex(f.ip);
    if (!f.function.empty()) s += " " + printable(f.function) + "+" + format_hex(f.offset);
    if (!f.module.empty()) s += " (" + printable(f.module.substr(f.module.rfind('/') + 1)) + ")";
    return s;
}

// Incremental images: the chain down to its full image, and how many pages each link's
// runs inherit instead of storing.
std::string chain_text(const Image &img)
{
    uint64_t inherited = 0;
    for (const auto &r : img.regions) inherited += r.inherited_pages;
    const ImageHeader &h = img.header;
    if (!(h.image_flags & kImageIncremental)) return "full image";
    std::string out = "incremental, depth " + std::to_string(h.chain_depth) + ": " + std::to_string(inherited) +
                      " pages inherited from version " + std::to_string(h.parent_version);
    std::vector<Image> ancestors;
    if (ImageStatus s = read_chain(img, ancestors)) return out + "; chain broken: " + printable(s.message);
    out += "; chain";
    for (const Image &a : ancestors) {
        uint64_t stored = 0;
        for (const auto &r : a.regions) stored += r.data_pages;
        out += " " + std::to_string(a.process.checkpoint_version) + " (" + std::to_string(stored) + " pages stored)";
    }
    return out + " intact";
}

void print_chain(const Image &img) { std::printf("%-16s%s\n", "Chain", chain_text(img).c_str()); }

void print_text(const Image &img)
{
    const ImageHeader &h = img.header;
    const ProcessRecord &p = img.process;
    const CaptureStats &st = p.stats;
    auto line = [](const char *label, const std::string &value) {
        std::printf("%-16s%s\n", label, value.c_str());
    };
    line("Image", printable(img.path));
    line("Format", "version " + std::to_string(h.format_version) + ", header " + std::to_string(h.header_size) +
                       " B");
    line("Size", format_size(h.image_size) + " (" + std::to_string(h.image_size) + " bytes): metadata " +
                     format_size(h.meta_size) + ", page data " + format_size(h.data_size));
    line("Contents", std::to_string(h.n_regions) + " regions, " + std::to_string(h.n_runs) + " page runs, " +
                         std::to_string(h.n_fds) + " descriptors, " + std::to_string(h.n_sigactions) +
                         " signal actions, " + std::to_string(h.strings_size) + " B of strings");
    line("Version", std::to_string(p.checkpoint_version));
    line("Created", format_local_time(int64_t(p.created_realtime_ns)));
    line("Pid", std::to_string(p.pid));
    line("Executable", printable(img.str(p.exe_path)));
    line("Directory", printable(img.str(p.cwd)));
    line("Command", printable(img.str(p.cmdline)));
    line("Umask", umask_string(p.umask));
    line("Signal", signal_name(p.signal) + " (" + std::to_string(p.signal) + ")");
    line("Capture", "pause " + format_ns(st.pause_ns) + ", scan " + format_ns(st.scan_ns) + ", write " +
                        format_ns(st.write_ns) + ", sync " +
                        (st.sync_ns ? format_ns(st.sync_ns) : std::string("-")));
    line("Pages", std::to_string(st.pages_written) + " written, " + std::to_string(st.pages_skipped) + " skipped");
    print_chain(img);
    if (img.has_stats) {
        // Format 6: what the checkpoint cost (CheckpointStats) and how the page data is stored.
        const CheckpointStats &c = img.stats;
        size_t zstd = 0;
        for (const auto &b : img.blocks) zstd += b.codec == BlockCodec::Zstd ? 1 : 0;
        line("Checkpoint", "stop " + format_ns(c.stop_ns) + ", fork " + (c.fork_ns ? format_ns(c.fork_ns) : "-") +
                               ", scan " + format_ns(c.scan_ns) + ", pause " + format_ns(c.pause_ns) + ", write " +
                               format_ns(c.write_ns) + ", compress " + format_ns(c.compress_ns) + " (" +
                               std::to_string(c.writer_threads) + (c.writer_threads == 1 ? " thread" : " threads") +
                               "), total " + format_ns(c.total_ns) + (h.image_flags & kImageForked ? ", forked" : ""));
        char pct[32];
        std::snprintf(pct, sizeof pct, "%.1f %%", c.raw_bytes ? 100.0 * double(c.stored_bytes) / double(c.raw_bytes) : 0.0);
        line("Page data", format_size(c.raw_bytes) + " raw, " + format_size(c.stored_bytes) + " stored (" + pct + "), " +
                              std::to_string(img.blocks.size()) + " blocks, " + std::to_string(zstd) + " zstd" +
                              (h.image_flags & kImageCompressed ? "" : " (not compressed)"));
    }

    std::printf("\nMemory regions (%zu)\n", img.regions.size());
    Table regions({"START-END", "PROT", "KIND", "SIZE", "SAVED", "NAME"});
    regions.align_right(3);
    regions.align_right(4);
    for (const auto &r : img.regions)
        regions.add({range_string(r), prot_string(r), kind_name(r.kind), format_size(r.end - r.start),
                     std::to_string(r.data_pages), printable(img.str(r.name))});
    std::printf("%s", regions.str().c_str());

    std::printf("\nFile descriptors (%zu)\n", img.fds.size());
    Table fds({"FD", "KIND", "FLAGS", "OFFSET", "CLOEXEC", "SHARES", "PATH", "DETAIL"});
    fds.align_right(0);
    fds.align_right(3);
    for (size_t i = 0; i < img.fds.size(); ++i) {
        const FdEntry &e = img.fds[i];
        const FdCommon &f = e.c;
        fds.add({std::to_string(f.fd), fd_kind_name(e), open_flag_words(f.open_flags),
                 f.offset < 0 ? "-" : std::to_string(f.offset), (f.flags & kFdCloexec) ? "yes" : "no",
                 shares_string(img, e, i), printable(img.str(f.path)),
                 f.shares_with < i ? "restored as a dup of " + shares_string(img, e, i) : printable(fd_detail(e))});
    }
    std::printf("%s", fds.str().c_str());

    size_t changed = 0;
    for (const auto &s : img.sigactions) changed += !is_default(s);
    std::printf("\nSignal dispositions other than SIG_DFL (%zu)\n", changed);
    if (changed) {
        Table sigs({"SIGNAL", "HANDLER", "FLAGS", "MASK"});
        for (const auto &s : img.sigactions)
            if (!is_default(s))
                sigs.add({signal_name(s.signo), handler_string(s.handler), sa_flag_words(s.flags),
                          sigmask_words(s.mask)});
        std::printf("%s", sigs.str().c_str());
    }

    std::printf("\nSignal state\n");
    line("  sigaltstack", altstack_string(p));
    line("  handler mask", format_hex(p.handler_sigmask) + " (" + sigmask_words(p.handler_sigmask) + ")");
    print_attrs_text(img);

    // Where each thread was, and how it got there (unwound from the image's memory).
    std::printf("\nThreads (%zu)\n", img.threads.empty() ? size_t(1) : img.threads.size());
    if (img.threads.empty()) {
        std::printf("  one thread (format %u image: no thread records)\n", h.format_version);
        return;
    }
    Table threads({"TID", "NAME", "ROLE", "IP", "SYSCALL", "MASK"});
    threads.align_right(0);
    for (const auto &t : img.threads)
        threads.add({std::to_string(t.tid), thread_name(t), thread_role(t), format_hex(t.ip), syscall_name(t.syscall),
                     sigmask_words(t.sigmask)});
    std::printf("%s", threads.str().c_str());
    for (const auto &t : img.threads) {
        std::printf("\nThread %d (%s) backtrace\n", t.tid, thread_name(t).c_str());
        const std::vector<Frame> frames = thread_backtrace(img, t);
        if (frames.empty()) std::printf("  (none: no signal frame recorded)\n");
        for (size_t i = 0; i < frames.size(); ++i) std::printf("  #%-2zu %s\n", i, frame_string(frames[i]).c_str());
    }
}

void print_json(const Image &img)
{
    const ImageHeader &h = img.header;
    const ProcessRecord &p = img.process;
    const CaptureStats &st = p.stats;
    JsonWriter j;
    j.begin_object();
    j.field("path", img.path);
    j.key("header").begin_object();
    j.field("format_version", h.format_version).field("header_size", h.header_size);
    j.field("image_size", h.image_size).field("meta_offset", h.meta_offset).field("meta_size", h.meta_size);
    j.field("data_offset", h.data_offset).field("data_size", h.data_size);
    j.field("n_regions", h.n_regions).field("n_runs", h.n_runs).field("n_fds", h.n_fds);
    j.field("n_sigactions", h.n_sigactions).field("strings_size", h.strings_size).field("n_threads", h.n_threads);
    j.end_object();
    j.key("process").begin_object();
    j.field("checkpoint_version", p.checkpoint_version);
    j.field("created_realtime_ns", p.created_realtime_ns);
    j.field("created", format_local_time(int64_t(p.created_realtime_ns)));
    j.field("pid", p.pid);
    j.field("exe", img.str(p.exe_path)).field("cwd", img.str(p.cwd)).field("cmdline", img.str(p.cmdline));
    j.field("umask", umask_string(p.umask));
    j.field("signal", p.signal).field("signal_name", signal_name(p.signal));
    j.end_object();
    j.key("chain").begin_object();
    j.field("incremental", bool(h.image_flags & kImageIncremental)).field("depth", h.chain_depth);
    j.field("parent_version", h.parent_version).field("description", chain_text(img));
    j.end_object();
    j.key("capture_stats").begin_object();
    j.field("pause_ns", st.pause_ns).field("scan_ns", st.scan_ns).field("write_ns", st.write_ns);
    j.field("sync_ns", st.sync_ns).field("pages_written", st.pages_written);
    j.field("pages_skipped", st.pages_skipped);
    j.end_object();
    if (img.has_stats) {
        const CheckpointStats &c = img.stats;
        size_t zstd = 0;
        for (const auto &b : img.blocks) zstd += b.codec == BlockCodec::Zstd ? 1 : 0;
        j.key("checkpoint_stats").begin_object();
        j.field("stop_ns", c.stop_ns).field("fork_ns", c.fork_ns).field("scan_ns", c.scan_ns);
        j.field("pause_ns", c.pause_ns).field("write_ns", c.write_ns).field("compress_ns", c.compress_ns);
        j.field("sync_ns", c.sync_ns).field("total_ns", c.total_ns).field("writer_threads", c.writer_threads);
        j.field("pages_present", c.pages_present).field("pages_written", c.pages_written);
        j.field("pages_inherited", c.pages_inherited).field("pages_excluded", c.pages_excluded);
        j.field("raw_bytes", c.raw_bytes).field("stored_bytes", c.stored_bytes);
        j.end_object();
        j.key("page_data").begin_object();
        j.field("compressed", bool(h.image_flags & kImageCompressed)).field("forked", bool(h.image_flags & kImageForked));
        j.field("n_blocks", uint64_t(img.blocks.size())).field("zstd_blocks", uint64_t(zstd));
        j.end_object();
    }

    j.key("regions").begin_array();
    for (const auto &r : img.regions) {
        j.begin_object();
        j.field("start", format_hex(r.start)).field("end", format_hex(r.end));
        j.field("prot", prot_string(r)).field("shared", bool(r.flags & kRegionShared));
        j.field("kind", kind_name(r.kind));
        j.field("stack", bool(r.flags & kRegionStack)).field("heap", bool(r.flags & kRegionHeap));
        j.field("pages", (r.end - r.start) / kPageSize).field("saved_pages", r.data_pages);
        j.field("inherited_pages", r.inherited_pages);
        j.key("name");
        if (r.name == kNoString) j.null(); else j.value(img.str(r.name));
        if (r.kind == RegionKind::File) j.field("file_offset", format_hex(r.file_offset));
        j.end_object();
    }
    j.end_array();

    j.key("fds").begin_array();
    for (size_t i = 0; i < img.fds.size(); ++i) {
        const FdEntry &e = img.fds[i];
        const FdCommon &f = e.c;
        j.begin_object();
        j.field("fd", f.fd).field("kind", fd_kind_name(e));
        j.field("flags", open_flag_words(f.open_flags)).field("flags_value", f.open_flags);
        j.field("offset", int64_t(f.offset)).field("cloexec", (f.flags & kFdCloexec) != 0);
        j.field("inherited", f.kind == FdKind::Inherited);
        j.key("shares_with");
        if (f.shares_with == i || f.shares_with >= img.fds.size()) j.null(); else j.value(int64_t(img.fds[f.shares_with].c.fd));
        j.key("path");
        if (f.path == kNoString) j.null(); else j.value(img.str(f.path));
        j.field("detail", fd_detail(e));
        j.end_object();
    }
    j.end_array();

    j.key("signals").begin_array();
    for (const auto &s : img.sigactions) {
        if (is_default(s)) continue;
        j.begin_object();
        j.field("signal", signal_name(s.signo)).field("number", s.signo);
        j.field("handler", handler_string(s.handler));
        j.field("flags", sa_flag_words(s.flags)).field("mask", format_hex(s.mask));
        j.end_object();
    }
    j.end_array();

    j.key("sigaltstack").begin_object();
    j.field("disabled", bool(p.altstack_flags & SS_DISABLE));
    j.field("sp", format_hex(p.altstack_sp)).field("size", p.altstack_size).field("flags", p.altstack_flags);
    j.end_object();
    j.field("handler_sigmask", format_hex(p.handler_sigmask));
    attrs_json(j, img);

    j.key("threads").begin_array();
    for (const auto &t : img.threads) {
        j.begin_object();
        j.field("tid", t.tid).field("name", std::string(t.comm, strnlen(t.comm, sizeof t.comm)));
        j.field("main", bool(t.flags & kThreadMain)).field("coordinator", bool(t.flags & kThreadCoordinator));
        j.field("ip", format_hex(t.ip)).field("sp", format_hex(t.sp));
        j.field("syscall", t.syscall).field("syscall_name", syscall_name(t.syscall));
        j.field("sigmask", format_hex(t.sigmask)).field("fs_base", format_hex(t.fs_base));
        if (t.flags & kThreadCoordinator) j.field("stop_ns", t.stop_ns);
        j.key("backtrace").begin_array();
        for (const Frame &f : thread_backtrace(img, t)) {
            j.begin_object();
            j.field("ip", format_hex(f.ip));
            j.key("function");
            if (f.function.empty()) j.null(); else j.value(f.function);
            j.field("offset", f.offset);
            j.key("module");
            if (f.module.empty()) j.null(); else j.value(f.module);
            j.end_object();
        }
        j.end_array();
        j.end_object();
    }
    j.end_array();
    j.end_object();
    std::cout << j.str();
}

}  // namespace

// The persistent checkpoint table of the epoch that begins with this version: every file
// changed after the checkpoint and what undoes the change.
void print_persistent_state(const Image &img)
{
    const std::string dir = img.path.substr(0, img.path.rfind('/') == std::string::npos ? 0 : img.path.rfind('/'));
    const uint64_t v = img.process.checkpoint_version;
    const persist::PctLog log = persist::read_pct(persist::log_path(dir.empty() ? "." : dir, v));
    std::cout << "\nPersistent state: changes after version " << v << " (" << persist::log_path(dir, v) << ")\n";
    if (!log.exists) {
        std::cout << "  none recorded (no file changed since this checkpoint, or they were undone)\n";
        return;
    }
    if (!log.error.empty()) std::cout << "  unreadable: " << log.error << "\n";
    for (const auto &r : log.records) std::cout << "  " << printable(persist::describe(r)) << "\n";
    if (log.torn_tail) std::cout << "  (torn tail after " << log.valid_bytes << " bytes: an interrupted append, ignored)\n";
    for (uint64_t off : log.bad_records) std::cout << "  (record at offset " << off << " fails its checksum)\n";
}

Runner add_inspect(CLI::App &app)
{
    struct Options {
        std::string image;
        bool json = false;
    };
    auto opt = std::make_shared<Options>();
    CLI::App *sub = app.add_subcommand("inspect", "show what a checkpoint image holds");
    sub->add_option("IMAGE", opt->image, "image file, NAME (newest version of the job) or NAME:VERSION")->required();
    sub->add_flag("--json", opt->json, "print one JSON object instead of tables");
    return [opt](const Globals &g) {
        int code = 0;
        auto ref = resolve_image(g.root, opt->image, code);
        if (!ref) return code;
        Image img;
        if (ImageStatus s = read_image(ref->path, img)) return fail(exit_code_for(s.code), s.message);
        if (opt->json) {
            print_json(img);
        } else {
            print_text(img);
            print_persistent_state(img);
        }
        std::fflush(stdout);
        return exit_code::kOk;
    };
}

}  // namespace ckptctl
