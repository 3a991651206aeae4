// ckpt-bench-tool: the measuring half of scripts/bench.sh. Each subcommand prints key=value
// lines on stdout (times in ns) and exits non-zero on failure, with a message on stderr.
//
//   plain-write DIR BYTES [--fallocate] [--chunk BYTES]
//       The baseline: BYTES of random data from a buffer in memory written to DIR/.plain.tmp
//       with pwrite() calls of --chunk bytes (default 1 MiB, as the runtime writes page data;
//       at most 1 GiB), fsync(), close,
//       rename to DIR/plain.dat, fsync(DIR). Timed from open() to the directory fsync; the
//       file is removed afterwards. --fallocate reserves the space first, as the runtime does.
//       Prints one line: bytes= ns= write_ns= sync_ns=.
//   plain-server DIR BYTES [--fallocate] [--chunk BYTES]
//       The same, as a helper: fills a buffer of BYTES, prints "ready", then performs one
//       plain write per line read from stdin ("BYTES [CHUNK]"), printing one line each.
//   checkpoint STATUS LAUNCHER_PID [TIMEOUT_S]
//       Sends SIGUSR1 to the launcher and waits (inotify on the job directory) until the status
//       file's seq changes. wall_ns = signal sent until the new status was seen. Fails if the
//       launcher exits first or the checkpoint failed.
//   wait STATUS TIMEOUT_S [--launcher PID] COND...
//       Waits until the status file satisfies every condition (KEY=VALUE, KEY!=VALUE, KEY>=N);
//       prints the time it saw that (CLOCK_REALTIME) and the status keys. Fails early if the
//       launcher PID exits first.
//   image-stats IMAGE
//       Header and CaptureStats of a checkpoint image (read with ckpt_image's read_image).
//   restore-parts IMAGE
//       Times the restorer's two passes over the page data separately: verify_data (checksum
//       of every page through mmap) and reading every region's pages with pread() into fresh
//       anonymous memory (what the restorer blob does).
//   evict FILE
//       Drops FILE's pages from the page cache (POSIX_FADV_DONTNEED; the file must be clean)
//       and reports how many were still resident before and after.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "image_reader.h"

namespace {

uint64_t now_ns(clockid_t clock = CLOCK_MONOTONIC)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

[[noreturn]] void die(const std::string &msg)
{
    std::fprintf(stderr, "ckpt-bench-tool: %s\n", msg.c_str());
    std::exit(1);
}

std::string errstr(const std::string &what) { return what + ": " + std::strerror(errno); }

using Status = std::map<std::string, std::string>;

Status read_status(const std::string &path)
{
    Status st;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq != std::string::npos) st[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return st;
}

uint64_t num(const Status &st, const std::string &key)
{
    auto it = st.find(key);
    return it == st.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string dir_of(const std::string &path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Whether PID exists and is not a zombie.
bool alive(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return false;
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Waits until pred(status) holds, waking on every rename into the job directory (the launcher
// replaces the status file by rename) and at least every 50 ms. Gives up when the launcher
// (if given) has exited. Returns the status.
template <typename Pred>
Status wait_for(int ino, const std::string &status_path, double timeout_s, pid_t launcher, Pred pred)
{
    const uint64_t deadline = now_ns() + uint64_t(timeout_s * 1e9);
    for (;;) {
        Status st = read_status(status_path);
        if (pred(st)) return st;
        if (now_ns() > deadline) die("timed out waiting for " + status_path);
        if (launcher > 0 && !alive(launcher)) {
            st = read_status(status_path);
            if (pred(st)) return st;
            die("the launcher (pid " + std::to_string(launcher) + ") exited; state=" +
                (st.count("state") ? st.at("state") : "?"));
        }
        pollfd p{ino, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            char buf[4096];
            while (read(ino, buf, sizeof buf) > 0) {
            }
        }
    }
}

int watch(const std::string &status_path)
{
    int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino < 0) die(errstr("inotify_init1"));
    if (inotify_add_watch(ino, dir_of(status_path).c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        die(errstr("inotify_add_watch " + dir_of(status_path)));
    return ino;
}

void print_status(const Status &st)
{
    for (const char *k : {"state", "seq", "checkpoints", "failures", "last_version", "last_pause_ns",
                          "last_image_bytes", "restores", "restored_version", "last_restore_ns", "program_pid",
                          "launcher_pid"}) {
        auto it = st.find(k);
        std::printf("%s=%s\n", k, it == st.end() ? "" : it->second.c_str());
    }
    auto err = st.find("last_error");
    if (err != st.end() && !err->second.empty()) std::printf("last_error=%s\n", err->second.c_str());
}

void fill_random(void *p, uint64_t bytes)
{
    uint64_t x = 0x243f6a8885a308d3ull;  // splitmix64
    auto *w = static_cast<uint64_t *>(p);
    for (uint64_t i = 0; i < bytes / 8; ++i) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        w[i] = z ^ (z >> 31);
    }
}

// A buffer of random bytes for the baseline, allocated and filled once, grown when needed.
struct Buffer {
    char *p = nullptr;
    uint64_t size = 0;
    void ensure(uint64_t bytes)
    {
        if (bytes <= size) return;
        if (p) munmap(p, size);
        void *m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) die(errstr("mmap"));
        p = static_cast<char *>(m);
        size = bytes;
        fill_random(p, bytes);
    }
};

// One baseline write of `bytes` from `buf` into DIR; prints its times on one line.
void plain_write_once(const std::string &dir, const char *buf, uint64_t bytes, bool reserve, uint64_t chunk_max)
{
    const int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) die(errstr(dir));
    const uint64_t t0 = now_ns();
    const int fd = openat(dirfd, ".plain.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die(errstr(dir + "/.plain.tmp"));
    if (reserve && fallocate(fd, 0, 0, off_t(bytes)) != 0 && errno != EOPNOTSUPP) die(errstr("fallocate"));
    uint64_t off = 0;
    while (off < bytes) {
        const size_t chunk = bytes - off > chunk_max ? size_t(chunk_max) : size_t(bytes - off);
        const ssize_t w = pwrite(fd, buf + off, chunk, off_t(off));
        if (w <= 0) die(errstr("pwrite"));
        off += uint64_t(w);
    }
    const uint64_t t_written = now_ns();
    if (fsync(fd) != 0) die(errstr("fsync"));
    close(fd);
    if (renameat(dirfd, ".plain.tmp", dirfd, "plain.dat") != 0) die(errstr("rename"));
    if (fsync(dirfd) != 0) die(errstr("fsync dir"));
    const uint64_t t1 = now_ns();
    unlinkat(dirfd, "plain.dat", 0);
    close(dirfd);
    std::printf("bytes=%llu ns=%llu write_ns=%llu sync_ns=%llu\n", (unsigned long long)bytes,
                (unsigned long long)(t1 - t0), (unsigned long long)(t_written - t0),
                (unsigned long long)(t1 - t_written));
    std::fflush(stdout);
}

struct PlainOptions {
    bool reserve = false;
    uint64_t chunk = 1 << 20;
};

PlainOptions plain_options(int argc, char **argv, int first)
{
    PlainOptions o;
    for (int i = first; i < argc; ++i) {
        if (std::strcmp(argv[i], "--fallocate") == 0) o.reserve = true;
        else if (std::strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) o.chunk = std::strtoull(argv[++i], nullptr, 10);
        else die(std::string("unknown option ") + argv[i]);
    }
    if (o.chunk == 0 || o.chunk > (1u << 30)) die("--chunk must be 1 .. 1073741824");
    return o;
}

int plain_write(int argc, char **argv)
{
    if (argc < 4) die("usage: plain-write DIR BYTES [--fallocate] [--chunk BYTES]");
    const uint64_t bytes = std::strtoull(argv[3], nullptr, 10);
    const PlainOptions o = plain_options(argc, argv, 4);
    Buffer buf;
    buf.ensure(bytes);
    plain_write_once(argv[2], buf.p, bytes, o.reserve, o.chunk);
    return 0;
}

// The baseline as a helper that lives as long as the benchmarked program: its buffer is
// allocated and filled when the program fills its memory, so that at measurement time neither
// side still has fresh memory of its own to fault in.
int plain_server(int argc, char **argv)
{
    if (argc < 4) die("usage: plain-server DIR BYTES [--fallocate] [--chunk BYTES]");
    const PlainOptions o = plain_options(argc, argv, 4);
    Buffer buf;
    buf.ensure(std::strtoull(argv[3], nullptr, 10));
    std::printf("ready\n");
    std::fflush(stdout);
    char line[64];
    while (std::fgets(line, sizeof line, stdin)) {
        char *end = nullptr;
        const uint64_t bytes = std::strtoull(line, &end, 10);
        uint64_t chunk = std::strtoull(end, nullptr, 10);
        if (!bytes) continue;
        if (chunk == 0 || chunk > (1u << 30)) chunk = o.chunk;
        buf.ensure(bytes);
        plain_write_once(argv[2], buf.p, bytes, o.reserve, chunk);
    }
    return 0;
}

int checkpoint(int argc, char **argv)
{
    if (argc < 4) die("usage: checkpoint STATUS LAUNCHER_PID [TIMEOUT_S]");
    const std::string path = argv[2];
    const pid_t launcher = pid_t(std::atoi(argv[3]));
    const double timeout = argc > 4 ? std::atof(argv[4]) : 300;
    const int ino = watch(path);
    const Status before = read_status(path);
    const uint64_t seq = num(before, "seq"), failures = num(before, "failures");
    const uint64_t t0 = now_ns();
    if (kill(launcher, SIGUSR1) != 0) die(errstr("kill " + std::to_string(launcher)));
    const Status after = wait_for(ino, path, timeout, launcher,
                                  [&](const Status &st) { return num(st, "seq") > seq; });
    const uint64_t t1 = now_ns();
    std::printf("wall_ns=%llu\n", (unsigned long long)(t1 - t0));
    print_status(after);
    if (num(after, "failures") != failures) die("the checkpoint failed: " + after.at("last_error"));
    return 0;
}

// One condition on the status: KEY=VALUE, KEY!=VALUE or KEY>=N.
bool holds(const Status &s, const std::string &cond)
{
    if (auto ge = cond.find(">="); ge != std::string::npos) {
        const std::string key = cond.substr(0, ge);
        return s.count(key) && num(s, key) >= std::strtoull(cond.c_str() + ge + 2, nullptr, 10);
    }
    if (auto ne = cond.find("!="); ne != std::string::npos) {
        auto it = s.find(cond.substr(0, ne));
        return it != s.end() && it->second != cond.substr(ne + 2);
    }
    if (auto eq = cond.find('='); eq != std::string::npos) {
        auto it = s.find(cond.substr(0, eq));
        return it != s.end() && it->second == cond.substr(eq + 1);
    }
    die("bad condition " + cond + ": expected KEY=VALUE, KEY!=VALUE or KEY>=N");
}

int wait_cmd(int argc, char **argv)
{
    if (argc < 5) die("usage: wait STATUS TIMEOUT_S [--launcher PID] COND...");
    const std::string path = argv[2];
    const double timeout = std::atof(argv[3]);
    int first = 4;
    pid_t launcher = 0;
    if (std::strcmp(argv[4], "--launcher") == 0 && argc > 6) {
        launcher = pid_t(std::atoi(argv[5]));
        first = 6;
    }
    const int ino = watch(path);
    const Status st = wait_for(ino, path, timeout, launcher, [&](const Status &s) {
        for (int i = first; i < argc; ++i)
            if (!holds(s, argv[i])) return false;
        return true;
    });
    std::printf("seen_realtime_ns=%llu\n", (unsigned long long)now_ns(CLOCK_REALTIME));
    print_status(st);
    return 0;
}

int image_stats(int argc, char **argv)
{
    if (argc < 3) die("usage: image-stats IMAGE");
    ckpt::Image img;
    if (auto s = ckpt::read_image(argv[2], img)) die(s.message);
    const auto &st = img.process.stats;
    std::printf("image_size=%llu\ndata_size=%llu\nmeta_size=%llu\nregions=%u\nruns=%u\n",
                (unsigned long long)img.header.image_size, (unsigned long long)img.header.data_size,
                (unsigned long long)img.header.meta_size, img.header.n_regions, img.header.n_runs);
    std::printf("pause_ns=%llu\nscan_ns=%llu\nwrite_ns=%llu\nsync_ns=%llu\npages_written=%llu\npages_skipped=%llu\n",
                (unsigned long long)st.pause_ns, (unsigned long long)st.scan_ns, (unsigned long long)st.write_ns,
                (unsigned long long)st.sync_ns, (unsigned long long)st.pages_written,
                (unsigned long long)st.pages_skipped);
    return 0;
}

int restore_parts(int argc, char **argv)
{
    if (argc < 3) die("usage: restore-parts IMAGE");
    ckpt::Image img;
    const uint64_t t0 = now_ns();
    if (auto s = ckpt::read_image(argv[2], img)) die(s.message);
    const uint64_t t1 = now_ns();
    if (auto s = ckpt::verify_data(img)) die(s.message);
    const uint64_t t2 = now_ns();
    const int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(errstr(argv[2]));
    uint64_t bytes = 0;
    for (const auto &r : img.regions) {
        if (!r.data_pages) continue;
        const uint64_t len = r.data_pages * ckpt::image::kPageSize;
        void *dst = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (dst == MAP_FAILED) die(errstr("mmap"));
        for (uint64_t done = 0; done < len;) {
            const size_t chunk = len - done > (1ull << 30) ? (1ull << 30) : size_t(len - done);
            const ssize_t n = pread(fd, static_cast<char *>(dst) + done, chunk, off_t(r.data_offset + done));
            if (n <= 0) die(errstr("pread"));
            done += uint64_t(n);
        }
        bytes += len;
        munmap(dst, len);
    }
    const uint64_t t3 = now_ns();
    close(fd);
    std::printf("read_image_ns=%llu\nverify_data_ns=%llu\npread_pages_ns=%llu\npage_bytes=%llu\n",
                (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2),
                (unsigned long long)bytes);
    return 0;
}

uint64_t resident_pages(int fd, uint64_t size)
{
    if (size == 0) return 0;
    void *m = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) die(errstr("mmap"));
    const uint64_t pages = (size + 4095) / 4096;
    std::string vec(pages, '\0');
    if (mincore(m, size, reinterpret_cast<unsigned char *>(vec.data())) != 0) die(errstr("mincore"));
    munmap(m, size);
    uint64_t n = 0;
    for (char c : vec) n += c & 1;
    return n;
}

int evict(int argc, char **argv)
{
    if (argc < 3) die("usage: evict FILE");
    const int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(errstr(argv[2]));
    struct stat st;
    if (fstat(fd, &st) != 0) die(errstr("fstat"));
    const uint64_t before = resident_pages(fd, uint64_t(st.st_size));
    if (fdatasync(fd) != 0) die(errstr("fdatasync"));
    if (int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)) die(std::string("posix_fadvise: ") + std::strerror(e));
    const uint64_t after = resident_pages(fd, uint64_t(st.st_size));
    close(fd);
    std::printf("pages=%llu\nresident_before=%llu\nresident_after=%llu\n",
                (unsigned long long)((st.st_size + 4095) / 4096), (unsigned long long)before,
                (unsigned long long)after);
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "plain-write") return plain_write(argc, argv);
    if (cmd == "plain-server") return plain_server(argc, argv);
    if (cmd == "checkpoint") return checkpoint(argc, argv);
    if (cmd == "wait") return wait_cmd(argc, argv);
    if (cmd == "image-stats") return image_stats(argc, argv);
    if (cmd == "restore-parts") return restore_parts(argc, argv);
    if (cmd == "evict") return evict(argc, argv);
    std::fprintf(stderr,
                 "usage: ckpt-bench-tool plain-write|plain-server|checkpoint|wait|image-stats|restore-parts|evict ...\n");
    return 2;
}
