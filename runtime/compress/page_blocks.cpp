#include "compress/page_blocks.h"

#include <sys/mman.h>

#include "sys/raw_syscall.h"

namespace ckpt::codec {

size_t count_blocks(const image::RegionRecord &r, const image::PageRun *runs)
{
    size_t n = 0;
    for (uint32_t k = 0; k < r.n_runs; ++k) {
        const image::PageRun &run = runs[r.first_run + k];
        if (run.flags & image::kRunInherited) continue;
        n += (uint64_t(run.n_pages) + image::kBlockPages - 1) / image::kBlockPages;
    }
    return n;
}

size_t block_sources(const image::RegionRecord &r, const image::PageRun *runs, bool volatile_src, BlockSource *out)
{
    size_t n = 0;
    for (uint32_t k = 0; k < r.n_runs; ++k) {
        const image::PageRun &run = runs[r.first_run + k];
        if (run.flags & image::kRunInherited) continue;
        const char *p = reinterpret_cast<const char *>(r.start + run.first_page * image::kPageSize);
        for (uint64_t done = 0; done < run.n_pages; done += image::kBlockPages) {
            const uint64_t pages = run.n_pages - done < image::kBlockPages ? run.n_pages - done : image::kBlockPages;
            out[n++] = {p + done * image::kPageSize, uint32_t(pages * image::kPageSize),
                        volatile_src ? uint32_t(kSourceVolatile) : 0u};
        }
    }
    return n;
}

PageBlocksResult write_page_blocks(BlockPipeline &pipe, int fd, uint64_t offset, image::RegionRecord *regions,
                                   size_t n, const image::PageRun *runs, BlockSource *scratch,
                                   image::BlockRecord *blocks, uint64_t here)
{
    PageBlocksResult res;
    res.end = int64_t(offset);
    for (size_t i = 0; i < n; ++i) {
        image::RegionRecord &r = regions[i];
        r.first_block = res.n_blocks;
        r.n_blocks = 0;
        r.data_checksum = 0;
        r.data_offset = uint64_t(res.end);
        const bool on_this_stack = here >= r.start && here < r.end;
        const size_t nb = block_sources(r, runs, on_this_stack, scratch);
        if (!nb) continue;
        const bool unreadable = !(r.prot & PROT_READ);
        if (unreadable) sys_mprotect(reinterpret_cast<void *>(r.start), r.end - r.start, int(r.prot | PROT_READ));
        const int64_t end = pipe.run(fd, scratch, blocks + res.n_blocks, nb, uint64_t(res.end));
        if (unreadable) sys_mprotect(reinterpret_cast<void *>(r.start), r.end - r.start, int(r.prot));
        if (end < 0) {
            res.end = end;
            return res;
        }
        r.n_blocks = uint32_t(nb);
        for (size_t b = 0; b < nb; ++b) res.pages += scratch[b].raw / image::kPageSize;
        res.n_blocks += uint32_t(nb);
        res.end = end;
    }
    return res;
}

}  // namespace ckpt::codec
