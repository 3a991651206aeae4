// ckpt-restore IMAGE: turns this fresh process into the checkpointed one. The libc half here
// validates the whole image before anything is torn down (a bad image costs nothing but an
// exit code), prepares the restore plan, and hands over to the blob (blob.c), which rebuilds
// the address space and jumps into the saved context.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "../../runtime/image_reader.h"
#include "../../runtime/maps_parser.h"
#include "../../runtime/world.h"
#include "../exit_codes.h"
#include "lineage.h"
#include "undo.h"
#include "restore_plan.h"
#include "restore_chain.h"
#include "exe_link.h"
#include "staging.h"
#include "files_handshake.h"
#include "lazy_loader.h"
#include "../../runtime/status_protocol.h"

extern "C" char __start_ckpt_blob[], __stop_ckpt_blob[];

namespace ckpt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kTaskTop = (1ull << 47) - kPage;
constexpr uint64_t kBlobStack = 256 * 1024;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

[[noreturn]] void die(int code, const std::string &msg)
{
    std::fprintf(stderr, "ckpt-restore: %s\n", msg.c_str());
    std::exit(code);
}

int exit_code_for(ImageError e)
{
    switch (e) {
    case ImageError::Missing: return exit_code::kNoInput;
    case ImageError::FileMissing: return exit_code::kNoInput;
    case ImageError::FileChanged: return exit_code::kStaleImage;
    case ImageError::Untrusted: return exit_code::kUntrusted;
    case ImageError::Incompatible: return exit_code::kIncompatible;
    case ImageError::AttrsRefused: return exit_code::kAttrsRefused;
    default: return exit_code::kBadImage;
    }
}

struct Mapping {
    uint64_t start, end;
    std::string name;
};

std::vector<Mapping> current_specials()
{
    std::ifstream maps("/proc/self/maps");
    std::vector<Mapping> out;
    std::string line;
    while (std::getline(maps, line)) {
        MapsEntry e;
        if (!parse_maps_line(line.data(), line.size(), e) || !is_kernel_special(e) || name_is(e, "[vsyscall]"))
            continue;
        out.push_back({e.start, e.end, std::string(e.name, e.name_len)});
    }
    return out;
}

bool overlaps(const Image &img, uint64_t start, uint64_t end)
{
    for (const auto &r : img.regions)
        if (r.start < end && start < r.end) return true;
    return false;
}

// A protected range must lie inside one writable saved region.
bool overlaps_nothing_writable(const Image &img, uint64_t addr, uint64_t len)
{
    for (const auto &r : img.regions)
        if (addr >= r.start && addr + len <= r.end && (r.prot & PROT_WRITE)) return false;
    return true;
}

// One mapping for the blob's code, plan and stack, where the image has nothing.
char *reserve_blob_area(const Image &img, uint64_t size)
{
    for (uint64_t at = 1ull << 32; at + size < kTaskTop; at += 1ull << 32) {
        if (overlaps(img, at, at + size)) continue;
        void *p = mmap(reinterpret_cast<void *>(at), size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED) continue;
        if (reinterpret_cast<uint64_t>(p) == at) return static_cast<char *>(p);
        munmap(p, size);
    }
    return nullptr;
}

uint64_t monotonic_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Bump allocation inside the blob area.
struct Carver {
    char *base;
    uint64_t used;
    template <typename T>
    T *take(uint64_t n)
    {
        used = align_up(used, 16);
        T *p = reinterpret_cast<T *>(base + used);
        used += n * sizeof(T);
        return p;
    }
};

}  // namespace
}  // namespace ckpt

int ckpt_restorer_main(int argc, char **argv)
{
    using namespace ckpt;
    const uint64_t t_start = monotonic_ns();
    bool verify_only = false;
    std::string path;
    std::vector<std::pair<std::string, std::string>> replace;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--verify-only") == 0) {
            verify_only = true;
        } else if (std::strcmp(argv[i], "--replace-file") == 0 && i + 1 < argc) {
            const std::string r = argv[++i];
            const size_t eq = r.find('=');
            if (eq == std::string::npos) die(exit_code::kUsage, "--replace-file " + r + ": expected OLD=NEW");
            replace.emplace_back(r.substr(0, eq), r.substr(eq + 1));
        } else {
            path = argv[i];
        }
    }
    if (path.empty()) die(exit_code::kUsage, "usage: ckpt-restore [--verify-only] [--replace-file OLD=NEW]... IMAGE");

    Image img;
    if (ImageStatus s = read_image(path, img)) die(exit_code_for(s.code), s.message);
    // /proc/PID/exe: without the capability to point it at the program's executable, the
    // restore goes on in a process exec'd from that executable (exe_link.h), same pid.
    const std::string exe = img.str(img.process.exe_path);
    const bool exe_already = !exe.empty() && restorer::runs_exe(exe);
    if (!verify_only && !exe.empty() && !exe_already && !restorer::can_set_exe_link()) {
        std::string why;
        restorer::restore_through_exe(img, exe, argc, argv, why);
        std::fprintf(stderr, "ckpt-restore: warning: /proc/self/exe of the restored program will show ckpt-restore "
                             "(cannot restore from its own executable: %s)\n", why.c_str());
    }
    // Open-file table changes at restore time (patent steps 865-870): descriptors that referred
    // to OLD at the checkpoint are reopened on NEW. The new paths go to the end of the string
    // table, which is copied into the blob area below.
    for (const auto &[from, to] : replace) {
        for (auto &e : img.fds) {
            image::FdCommon &f = e.c;
            if (f.path == image::kNoString || img.str(f.path) != from) continue;
            struct stat st;
            if (::stat(to.c_str(), &st) != 0) die(exit_code::kNoInput, "--replace-file: " + to + ": " + std::strerror(errno));
            f.path = image::StrRef(img.strings.size());
            img.strings += to;
            img.strings.push_back('\0');
            f.dev = st.st_dev;
            f.ino = st.st_ino;
            std::fprintf(stderr, "ckpt-restore: fd %d: %s replaced by %s\n", f.fd, from.c_str(), to.c_str());
        }
    }
    // The world and the attributes first: an image that cannot run here costs no page checks.
    const bool same_process = std::getenv("CKPT_ROLLBACK_VALUE") && std::atoi(std::getenv("CKPT_ROLLBACK_VALUE")) > 0;
    if (ImageStatus s = verify_restorable(img, same_process)) die(exit_code_for(s.code), s.message);
    // The page data is checked as it is loaded (staging.h), in the one pass over it; a
    // --verify-only run (rollback's pre-check) loads nothing and checks it here.
    if (verify_only)
        if (ImageStatus s = verify_data(img)) die(exit_code_for(s.code), s.message);
    // rollback(): the files go back below, and a file replaced since the checkpoint is the one
    // the program had open only then; its identity is checked after the undo.
    const char *rb = std::getenv("CKPT_ROLLBACK_VALUE");
    const char *jd = std::getenv("CKPT_JOB_DIR");
    const bool rolling_back = rb && std::atoi(rb) > 0 && jd && *jd;
    // Under ckpt-run the files are rolled back only after the pages are staged (below): the
    // open files are checked then.
    const int handshake = verify_only ? -1 : restorer::handshake_fd();
    if (handshake < 0)
        if (ImageStatus s = verify_files(img, !rolling_back)) die(exit_code_for(s.code), s.message);
    // Protected variables carried over a rollback: (addr, len, bytes) records. Each must lie
    // in writable memory of the image; rollback() runs --verify-only with the same file
    // first, so that a range it cannot keep fails the call instead of losing the process.
    std::string protected_bytes;
    if (const char *pp = std::getenv("CKPT_PROTECTED"); pp && *pp) {
        std::ifstream in(pp, std::ios::binary);
        protected_bytes.assign(std::istreambuf_iterator<char>(in), {});
        if (!verify_only) unlink(pp);
        for (size_t at = 0; at + 16 <= protected_bytes.size();) {
            uint64_t hdr[2];
            std::memcpy(hdr, protected_bytes.data() + at, 16);
            if (hdr[1] > protected_bytes.size() - at - 16 || overlaps_nothing_writable(img, hdr[0], hdr[1]))
                die(exit_code::kUsage, "protected variable outside the image's writable memory");
            at += 16 + hdr[1];
        }
    }
    {
        // An incremental image is restorable only with its whole chain (open_chain below reads
        // it again, with the page data).
        std::vector<Image> ancestors;
        if (ImageStatus s = read_chain(img, ancestors)) die(exit_code_for(s.code), s.message);
    }
    if (verify_only) return 0;

    // The kernel's special mappings of this process must match the image's one for one.
    std::vector<Mapping> specials = current_specials();
    std::vector<const image::RegionRecord *> wanted;
    for (const auto &r : img.regions)
        if (r.kind == image::RegionKind::Special) wanted.push_back(&r);
    if (wanted.size() != specials.size() || specials.size() > PLAN_MAX_SPECIALS)
        die(exit_code::kStaleImage, "the kernel's special mappings differ from the image's (was it taken on another kernel?)");
    uint64_t scratch_size = 0;
    for (const auto *r : wanted) {
        auto it = std::find_if(specials.begin(), specials.end(), [&](const Mapping &m) {
            return m.name == img.str(r->name) && m.end - m.start == r->end - r->start;
        });
        if (it == specials.end())
            die(exit_code::kStaleImage, "the kernel mapping " + img.str(r->name) + " differs from the image's");
        scratch_size += r->end - r->start;
    }

    std::string why;
    const int image_fd = reopen_image(img, why);
    if (image_fd < 0) die(exit_code::kUntrusted, why);
    const int exe_fd = exe.empty() || exe_already ? -1 : open(exe.c_str(), O_RDONLY | O_CLOEXEC);
    // Incremental: the ancestors the inherited runs come from (restore_chain.h).
    restorer::ChainSources sources;
    if (ImageStatus s = restorer::open_chain(img, image_fd, sources)) die(exit_code_for(s.code), s.message);
    // --lazy: private anonymous memory is served by the loader while the program runs
    // (lazy_loader.h); it waits for the blob's word, and ends if the restore fails before.
    std::vector<bool> lazy(img.regions.size(), false);
    restorer::lazy::Handles lazy_handles;
    const char *lazy_env = std::getenv("CKPT_LAZY");
    if (lazy_env && std::atoi(lazy_env) > 0 && !same_process) {
        bool any = false;
        for (size_t i = 0; i < img.regions.size(); ++i) any |= lazy[i] = restorer::lazy::eligible(img, img.regions[i]);
        std::string why;
        const int uffd = any ? restorer::lazy::open_userfaultfd(why) : -1;
        // Above every descriptor of the image, and ckpt's own (status_protocol.h).
        int done_at = kStatusFd + 1;
        for (const auto &e : img.fds) done_at = std::max(done_at, e.c.fd + 1);
        const char *fd_env = std::getenv("CKPT_STATUS_FD");
        if (uffd >= 0 && !restorer::lazy::start(img, sources, lazy, uffd, fd_env ? std::atoi(fd_env) : -1, done_at,
                                                lazy_handles, why))
            ::close(uffd);
        if (lazy_handles.uffd < 0) {
            lazy.assign(img.regions.size(), false);
            if (any)
                std::fprintf(stderr, "ckpt-restore: warning: --lazy: %s; every page is loaded before the program "
                                     "runs\n", why.c_str());
        }
    }
    // Every other page of this image, loaded and verified once, before anything is torn down.
    std::vector<restorer::Staging> staged;
    if (ImageStatus s = restorer::stage_pages(img, image_fd, 2, lazy, staged)) die(exit_code_for(s.code), s.message);
    if (handshake >= 0) {
        std::string why;
        if (!restorer::wait_for_files(handshake, img.process.checkpoint_version, why)) die(exit_code::kUndoFailed, why);
        if (ImageStatus s = verify_files(img, true)) die(exit_code_for(s.code), s.message);
    }
    uint64_t n_staged = 0;
    for (const auto &s : staged) n_staged += s.addr ? 1 : 0;

    // Blob area: code | plan | regions | runs | fds | strings | scratch | stack.
    const std::string fd_section = encode_fd_section(img.fds);
    const uint64_t code_size = uint64_t(__stop_ckpt_blob - __start_ckpt_blob);
    const uint64_t code_pages = align_up(code_size, kPage);
    uint64_t data_bytes = sizeof(restore_plan) + img.regions.size() * sizeof(plan_region) +
                          sources.n_runs * sizeof(plan_run) + fd_section.size() + 8 +
                          img.strings.size() + img.attrs.size() + img.threads.size() * sizeof(plan_thread) + 16 * 9;
    data_bytes += protected_bytes.size() * 2 + 64;
    data_bytes += (1 + wanted.size() + n_staged) * sizeof(plan_range) + 16;
    const uint64_t data_pages = align_up(data_bytes, kPage);
    const uint64_t total = code_pages + data_pages + scratch_size + kBlobStack;
    char *area = reserve_blob_area(img, total);
    if (!area) die(exit_code::kOsError, "no free address range for the restorer outside the image's regions");
    std::memcpy(area, __start_ckpt_blob, code_size);

    Carver carve{area + code_pages, 0};
    auto *plan = carve.take<restore_plan>(1);
    std::memset(plan, 0, sizeof *plan);
    auto *regions = carve.take<plan_region>(img.regions.size());
    auto *runs = carve.take<plan_run>(sources.n_runs);
    auto *fds = carve.take<uint64_t>(fd_section.size() / 8);
    char *strings = carve.take<char>(img.strings.size() + 1);
    std::memcpy(strings, img.strings.data(), img.strings.size());
    strings[img.strings.size()] = 0;
    std::memcpy(fds, fd_section.data(), fd_section.size());
    char *attrs = carve.take<char>(img.attrs.size());
    std::memcpy(attrs, img.attrs.data(), img.attrs.size());

    uint64_t n = 0, n_runs = 0;
    for (size_t ri = 0; ri < img.regions.size(); ++ri) {
        const image::RegionRecord &r = img.regions[ri];
        if (r.kind == image::RegionKind::Special) continue;
        plan_region &p = regions[n++];
        p.start = r.start;
        p.end = r.end;
        p.prot = r.prot;
        p.kind = r.kind == image::RegionKind::File ? PLAN_FILE : PLAN_ANON;
        p.shared = (r.flags & image::kRegionShared) ? 1 : 0;
        p.stack = (r.flags & image::kRegionStack) ? 1 : 0;
        p.file_offset = r.file_offset;
        p.path = r.name == image::kNoString ? nullptr : strings + r.name;
        p.file_dev = r.file_dev;
        p.file_ino = r.file_ino;
        // Stored pages of this image are in the region's staging mapping, loaded above;
        // inherited ones are read from the ancestor that stored them (restore_chain.h).
        const restorer::Staging &st = staged[ri];
        p.staging = st.addr;
        p.staged = !st.addr ? PLAN_STAGE_NONE : st.move ? PLAN_STAGE_MOVE : PLAN_STAGE_COPY;
        p.first_run = n_runs;
        if (lazy[ri]) {  // the loader's: no run for the blob to read
            p.staged = PLAN_STAGE_LAZY;
            p.n_runs = 0;
            continue;
        }
        p.n_runs = sources.runs[ri].size();
        for (plan_run run : sources.runs[ri]) {
            if (run.src == 0 && st.addr) run = {run.first_page, run.n_pages, 0, PLAN_SRC_STAGING, 0};
            runs[n_runs++] = run;
        }
    }
    plan->regions = regions;
    plan->n_regions = n;
    plan->runs = runs;
    plan->image_fd = image_fd;
    for (size_t i = 0; i < sources.fds.size(); ++i) plan->sources[i] = sources.fds[i];
    plan->n_sources = uint32_t(sources.fds.size());
    plan->exe_fd = exe_fd;
    plan->lazy_uffd = lazy_handles.uffd;
    plan->lazy_go_fd = lazy_handles.go_w;
    plan->task_top = kTaskTop;

    const uint64_t scratch = reinterpret_cast<uint64_t>(area) + code_pages + data_pages;
    uint64_t scratch_at = scratch;
    std::vector<plan_range> keep{{reinterpret_cast<uint64_t>(area), reinterpret_cast<uint64_t>(area) + total}};
    for (const auto &s : staged)
        if (s.addr) keep.push_back({s.addr, s.addr + s.len});
    for (const auto *r : wanted) {
        auto it = std::find_if(specials.begin(), specials.end(),
                               [&](const Mapping &m) { return m.name == img.str(r->name); });
        plan->specials[plan->n_specials++] = {it->start, it->end - it->start, scratch_at, r->start};
        scratch_at += it->end - it->start;
        keep.push_back({it->start, it->end});
    }
    std::sort(keep.begin(), keep.end(), [](const plan_range &a, const plan_range &b) { return a.start < b.start; });
    plan->n_keep = keep.size();
    plan->keep = carve.take<plan_range>(keep.size());
    std::copy(keep.begin(), keep.end(), plan->keep);

    const image::ProcessRecord &pr = img.process;
    for (const auto &s : img.sigactions)
        plan->sigactions[plan->n_sigactions++] = {s.signo, 0, s.handler, s.flags, s.restorer, s.mask};
    plan->altstack_sp = pr.altstack_sp;
    plan->altstack_size = pr.altstack_size;
    plan->altstack_flags = pr.altstack_flags;
    plan->sigmask = pr.handler_sigmask;
    plan->mm = {pr.mm.start_code, pr.mm.end_code, pr.mm.start_data, pr.mm.end_data, pr.mm.start_brk,
                pr.mm.brk, pr.mm.start_stack, pr.mm.arg_start, pr.mm.arg_end, pr.mm.env_start,
                pr.mm.env_end, 0, 0, 0};
    plan->rseq_addr = pr.rseq_addr;
    plan->rseq_len = pr.rseq_len;
    plan->rseq_sig = pr.rseq_sig;
    plan->fs_base = pr.fs_base;
    static_assert(sizeof(plan_context) == sizeof(image::CpuContext));
    std::memcpy(&plan->ctx, &pr.context, sizeof plan->ctx);
    // Threads (format 4): this process becomes the leader (its pid is the thread group's),
    // whichever thread took the checkpoint; the blob clones the others.
    if (!img.threads.empty()) {
        plan->threads = carve.take<plan_thread>(img.threads.size());
        for (const image::ThreadRecord &t : img.threads) {
            if (t.flags & image::kThreadMain) {
                plan->rseq_addr = t.rseq_addr;
                plan->rseq_len = t.rseq_len;
                plan->rseq_sig = t.rseq_sig;
                plan->fs_base = t.fs_base;
                plan->altstack_sp = t.altstack_sp;
                plan->altstack_size = t.altstack_size;
                plan->altstack_flags = t.altstack_flags;
                std::memcpy(&plan->ctx, &t.context, sizeof plan->ctx);
                continue;
            }
            plan_thread &pt = plan->threads[plan->n_threads++];
            pt.tid = t.tid;
            pt.fs_base = t.fs_base;
            std::memcpy(&pt.ctx, &t.context, sizeof pt.ctx);
        }
    }
    plan->restore_info_addr = pr.restore_info_addr;
    if (!protected_bytes.empty()) {
        char *copy = carve.take<char>(protected_bytes.size());
        std::memcpy(copy, protected_bytes.data(), protected_bytes.size());
        plan->protected_ranges = carve.take<plan_protected>(protected_bytes.size() / 16 + 1);
        for (size_t at = 0; at + 16 <= protected_bytes.size();) {
            uint64_t hdr[2];
            std::memcpy(hdr, copy + at, 16);
            if (at + 16 + hdr[1] > protected_bytes.size() || overlaps_nothing_writable(img, hdr[0], hdr[1]))
                die(exit_code::kUsage, "protected variable outside the image's writable memory");
            plan->protected_ranges[plan->n_protected++] = {hdr[0], hdr[1], copy + at + 16};
            at += 16 + hdr[1];
        }
    }

    ckpt_restore_info &info = plan->info;
    info.magic = CKPT_RESTORE_INFO_MAGIC;
    info.version = pr.checkpoint_version;
    info.restorer_start_ns = t_start;
    info.blob_addr = reinterpret_cast<uint64_t>(area);
    info.blob_len = total;
    const char *fd_env = std::getenv("CKPT_STATUS_FD");
    info.status_fd = fd_env ? std::atoi(fd_env) : -1;
    info.launcher_pid = int32_t(getppid());
    info.umask = pr.umask;
    info.fds = reinterpret_cast<uint64_t>(fds);
    info.n_fds = img.fds.size();
    info.strings = reinterpret_cast<uint64_t>(strings);
    info.attrs = img.attrs.empty() ? 0 : reinterpret_cast<uint64_t>(attrs);
    info.attrs_size = img.attrs.size();
    info.cwd = pr.cwd == image::kNoString ? 0 : reinterpret_cast<uint64_t>(strings + pr.cwd);
    const char *value = std::getenv("CKPT_ROLLBACK_VALUE");
    info.rollback_value = value ? std::atoi(value) : 0;
    const char *sig = std::getenv("CKPT_SIGNAL");
    info.signal = sig ? std::atoi(sig) : 0;
    const char *level = std::getenv("CKPT_COMPRESS");
    info.compress_level = level ? std::atoi(level) : 0;
    info.lazy_fd = lazy_handles.done_r;
    const char *job_dir = std::getenv("CKPT_JOB_DIR");
    std::snprintf(info.job_dir, sizeof info.job_dir, "%s", job_dir ? job_dir : "");

    if (mprotect(area, code_pages, PROT_READ | PROT_EXEC) != 0)
        die(exit_code::kOsError, std::string("cannot make the restorer blob executable: ") + std::strerror(errno));

    // rollback(): the files go back with the memory. Every change made since this version is
    // undone now, while nothing is torn down yet (crash recovery did this in the launcher,
    // which knows the user's --no-undo list).
    if (info.rollback_value > 0 && info.job_dir[0]) {
        persist::UndoOptions uo;
        const char *pol = std::getenv("CKPT_ON_UNDO_FAILURE");
        uo.accept_loss = pol && pol[0] == 'p';
        uo.log = [](int level, const std::string &m) {
            if (level > 0) std::fprintf(stderr, "ckpt-restore: %s\n", m.c_str());
        };
        // The timeline that went on from this version is abandoned: its newer versions are
        // retired before any file changes (persist/lineage.h), once it is certain the undo can
        // be done; a crash from here on recovers to this version.
        const std::vector<std::string> problems = persist::check_undo(info.job_dir, pr.checkpoint_version, uo);
        if (!problems.empty() && !uo.accept_loss) {
            std::string all;
            for (const auto &p : problems) all += (all.empty() ? "" : "; ") + p;
            die(exit_code::kUndoFailed, "rollback: cannot roll the files back (nothing was changed): " + all);
        }
        if (!uo.accept_loss) {
            std::string all;
            for (const auto &f : persist::check_growth(info.job_dir, pr.checkpoint_version, uo))
                all += (all.empty() ? "" : "; ") + f.describe();
            if (!all.empty())
                die(exit_code::kForeignAppends, "rollback: cannot roll the files back (nothing was changed): " + all +
                                                    "; undoing the program's changes would cut those bytes off");
        }
        persist::Retirement ret = persist::retire_newer(info.job_dir, pr.checkpoint_version);
        if (!ret.ok) die(exit_code::kOsError, "rollback: " + ret.error);
        persist::UndoResult r = persist::undo_to(info.job_dir, pr.checkpoint_version, uo);
        if (!r.ok) die(exit_code::kUndoFailed, "rollback: cannot roll the files back: " + r.error);
        if (ImageStatus s = verify_files(img)) die(exit_code_for(s.code), "rollback: " + s.message);
    }

    // Point of no return. Nothing may interrupt the teardown; glibc's rseq registration for
    // this process must end before its memory goes away (the restored one is registered anew).
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    std::fflush(nullptr);
    if (__rseq_size > 0) {
        uint64_t fs = 0;
        asm volatile("movq %%fs:0, %0" : "=r"(fs));
        syscall(SYS_rseq, reinterpret_cast<void *>(fs + uint64_t(__rseq_offset)), world::rseq_length(),
                1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG);
    }
    const uint64_t entry = reinterpret_cast<uint64_t>(area) +
                           uint64_t(reinterpret_cast<char *>(&ckpt_blob_main) - __start_ckpt_blob);
    const uint64_t stack_top = reinterpret_cast<uint64_t>(area) + total - 8;
    asm volatile("movq %0, %%rsp\n\t"
                 "movq %1, %%rdi\n\t"
                 "jmp *%2\n\t"
                 :
                 : "r"(stack_top), "r"(plan), "r"(entry)
                 : "memory");
    __builtin_unreachable();
}

#ifndef CKPT_RESTORER_LIBRARY
int main(int argc, char **argv) { return ckpt_restorer_main(argc, argv); }
#endif
