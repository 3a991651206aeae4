// ckpt-bench-codec FILE [LEVEL...]: the block codec (runtime/compress/block_codec.h) over the
// page data of FILE, as the image writer would use it (blocks of image::kBlockPages pages):
// the ratio, compression and decompression throughput (one thread) at each level, with and
// without the incompressibility probe. FILE is raw memory (a ckpt image's page data, or any
// file). One line a level: level stored/raw ratio, MB/s compress, MB/s decompress, raw blocks.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "arena.h"
#include "compress/block_codec.h"
#include "compress/block_pipeline.h"

using namespace ckpt;

static double now()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: ckpt-bench-codec FILE [OFFSET] [LEVEL...]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st{};
    if (fd < 0 || fstat(fd, &st) != 0) { perror(argv[1]); return 1; }
    size_t off = argc > 2 ? size_t(std::strtoull(argv[2], nullptr, 0)) & ~size_t(4095) : 0;
    size_t n = (size_t(st.st_size) - off) & ~size_t(4095);
    char *p = static_cast<char *>(mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off));
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    std::vector<int> levels;
    // CKPT_BENCH_THREADS=N: the block pipeline with N threads instead (written to a deleted
    // file in /tmp, as the writer would), wall-clock throughput.
    if (const char *t = std::getenv("CKPT_BENCH_THREADS")) {
        const int threads = std::atoi(t);
        for (int i = 3; i < argc; ++i) levels.push_back(std::atoi(argv[i]));
        if (levels.empty()) levels = {1};
        std::vector<codec::BlockSource> in;
        for (size_t at = 0; at < n; at += codec::kBlockBytes)
            in.push_back({p + at, uint32_t(n - at < codec::kBlockBytes ? n - at : codec::kBlockBytes), 0});
        std::vector<image::BlockRecord> out(in.size());
        for (int level : levels) {
            Arena arena;
            arena.open();
            codec::BlockPipeline pl;
            pl.start(arena, level, threads);
            char path[] = "/tmp/ckpt-bench-codec-XXXXXX";
            int ofd = mkstemp(path);
            unlink(path);
            double t0 = now();
            int64_t end = pl.run(ofd, in.data(), out.data(), in.size(), 0);
            double t1 = now();
            fsync(ofd);
            double t2 = now();
            const int used = pl.threads();
            pl.stop();
            std::printf("level %d threads %d: %.1f%% stored, %.0f MB/s written, %.0f MB/s with fsync, compress %.0f ms cpu\n",
                        level, used, 100.0 * double(end) / double(n), double(n) / (t1 - t0) / 1e6,
                        double(n) / (t2 - t0) / 1e6, double(pl.compress_ns()) / 1e6);
            close(ofd);
        }
        return 0;
    }
    for (int i = 3; i < argc; ++i) levels.push_back(std::atoi(argv[i]));
    if (levels.empty()) levels = {-5, -3, -1, 1, 3};
    std::vector<char> frame(codec::compressed_capacity()), back(codec::kBlockBytes);
    std::vector<uint64_t> dws(codec::decompressor_workspace() / 8 + 1);
    codec::Decompressor d;
    d.init(dws.data(), dws.size() * 8);
    std::printf("%-6s %8s %10s %10s %8s  (%zu MiB)\n", "level", "ratio", "comp MB/s", "dec MB/s", "raw blk", n >> 20);
    for (int level : levels) {
        std::vector<uint64_t> cws(codec::compressor_workspace(level) / 8 + 1);
        codec::Compressor c;
        c.init(cws.data(), cws.size() * 8, level);
        // Frames kept for the decompression pass.
        std::vector<char> all;
        std::vector<uint32_t> sizes;
        size_t stored = 0, raw_blocks = 0;
        double t0 = now();
        for (size_t at = 0; at < n; at += codec::kBlockBytes) {
            uint32_t len = uint32_t(n - at < codec::kBlockBytes ? n - at : codec::kBlockBytes), s = 0;
            if (c.compress(p + at, len, frame.data(), s) == image::BlockCodec::Raw) {
                ++raw_blocks;
                sizes.push_back(0);
            } else {
                sizes.push_back(s);
                all.insert(all.end(), frame.data(), frame.data() + s);
            }
            stored += s;
        }
        double tc = now() - t0;
        t0 = now();
        size_t from = 0, k = 0;
        for (size_t at = 0; at < n; at += codec::kBlockBytes, ++k) {
            uint32_t len = uint32_t(n - at < codec::kBlockBytes ? n - at : codec::kBlockBytes);
            if (!sizes[k]) { std::memcpy(back.data(), p + at, len); continue; }
            if (!d.decompress(all.data() + from, sizes[k], back.data(), len)) { std::fprintf(stderr, "decompress failed\n"); return 1; }
            from += sizes[k];
        }
        double td = now() - t0;
        std::printf("%-6d %7.1f%% %10.0f %10.0f %8zu\n", level, 100.0 * double(stored) / double(n), double(n) / tc / 1e6,
                    double(n) / td / 1e6, raw_blocks);
    }
    return 0;
}
