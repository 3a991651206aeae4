#include "chain_reader.h"

#include <algorithm>
#include <cstdio>

namespace ckpt {

std::string sibling_image_path(const std::string &path, uint64_t v)
{
    char name[40];
    std::snprintf(name, sizeof name, "ckpt-%06llu.img", static_cast<unsigned long long>(v));
    const size_t slash = path.rfind('/');
    return (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + name;
}

namespace {

ImageStatus broken(const std::string &msg) { return ImageStatus{ImageError::ChainBroken, msg}; }

std::string vname(uint64_t v) { return "version " + std::to_string(v); }

}  // namespace

ImageStatus read_chain(const Image &img, std::vector<Image> &ancestors)
{
    ancestors.clear();
    const Image *child = &img;
    uint64_t child_version = img.process.checkpoint_version;
    // Each link is younger than its parent, so the walk ends; the depth bounds it too.
    while (child->header.image_flags & image::kImageIncremental) {
        const image::ImageHeader &h = child->header;
        if (h.parent_version == 0 || h.parent_version >= child_version || h.chain_depth == 0 ||
            ancestors.size() > 100000)
            return broken(child->path + ": names no valid parent");
        Image parent;
        const std::string path = sibling_image_path(child->path, h.parent_version);
        if (ImageStatus s = read_image(path, parent)) {
            if (s.code == ImageError::Untrusted) return s;
            return broken(img.path + ": its parent " + vname(h.parent_version) + " is unusable (" + s.message + ")");
        }
        if (parent.header.header_checksum != h.parent_checksum)
            return broken(img.path + ": its parent " + vname(h.parent_version) +
                          " is not the image it was taken against (replaced)");
        const bool parent_incremental = parent.header.image_flags & image::kImageIncremental;
        if (parent.header.chain_depth + 1 != h.chain_depth || parent_incremental != (parent.header.chain_depth > 0))
            return broken(img.path + ": the chain depth of " + vname(h.parent_version) + " does not follow");
        child_version = h.parent_version;
        ancestors.push_back(std::move(parent));
        child = &ancestors.back();
    }
    return {};
}

std::vector<uint64_t> chain_versions(const Image &img)
{
    std::vector<uint64_t> out;
    image::ImageHeader h = img.header;
    std::string path = img.path;
    while ((h.image_flags & image::kImageIncremental) && h.parent_version && out.size() < 100000) {
        out.push_back(h.parent_version);
        Image parent;
        path = sibling_image_path(path, h.parent_version);
        if (read_image(path, parent)) break;
        if (parent.header.header_checksum != h.parent_checksum) break;
        h = parent.header;
    }
    return out;
}

ChainResolver::ChainResolver(std::vector<const Image *> chain) : chain_(std::move(chain))
{
    // Stored runs lie one after the other from their region's data_offset.
    for (const Image *img : chain_) {
        std::vector<uint64_t> offs(img->runs.size(), 0);
        for (const auto &r : img->regions) {
            uint64_t off = r.data_offset;
            for (uint32_t k = 0; k < r.n_runs && r.first_run + k < offs.size(); ++k) {
                const image::PageRun &run = img->runs[r.first_run + k];
                offs[r.first_run + k] = off;
                if (!(run.flags & image::kRunInherited)) off += uint64_t(run.n_pages) * image::kPageSize;
            }
        }
        run_offset_.push_back(std::move(offs));
    }
}

bool ChainResolver::resolve_region(size_t region, std::vector<ChainPiece> &out, std::string &why) const
{
    out.clear();
    const Image &img = *chain_[0];
    const image::RegionRecord &r = img.regions[region];
    for (uint32_t k = 0; k < r.n_runs; ++k) {
        const image::PageRun &run = img.runs[r.first_run + k];
        if (!(run.flags & image::kRunInherited)) {
            out.push_back({run.first_page, run.n_pages, 0, run_offset_[0][r.first_run + k]});
            continue;
        }
        const uint64_t a = r.start + run.first_page * image::kPageSize;
        if (!resolve_range(1, a, a + uint64_t(run.n_pages) * image::kPageSize, r.start, out, why)) return false;
    }
    return true;
}

// [a, b) as chain[level] had it, appended to `out` relative to `base` (chain[0]'s region).
bool ChainResolver::resolve_range(size_t level, uint64_t a, uint64_t b, uint64_t base, std::vector<ChainPiece> &out,
                                  std::string &why) const
{
    char where[64];
    std::snprintf(where, sizeof where, "%#llx-%#llx", (unsigned long long)a, (unsigned long long)b);
    if (level >= chain_.size()) {
        why = std::string("inherited pages ") + where + " past the end of the chain";
        return false;
    }
    const Image &img = *chain_[level];
    const auto &regs = img.regions;
    uint64_t at = a;
    while (at < b) {
        // The region of this ancestor holding `at` (regions are sorted by address).
        auto it = std::upper_bound(regs.begin(), regs.end(), at,
                                   [](uint64_t x, const image::RegionRecord &q) { return x < q.start; });
        if (it == regs.begin() || (it - 1)->end <= at || (it - 1)->kind == image::RegionKind::Special) {
            why = std::string("inherited pages ") + where + " are outside the memory of " + img.path;
            return false;
        }
        const image::RegionRecord &q = *(it - 1);
        const uint64_t stop = std::min(b, q.end);
        // Its runs overlapping [at, stop): the first one ending after `at`.
        const image::PageRun *runs = img.runs.data() + q.first_run;
        const uint64_t page = (at - q.start) / image::kPageSize, last = (stop - q.start) / image::kPageSize;
        const image::PageRun *first = std::upper_bound(runs, runs + q.n_runs, page, [](uint64_t p, const image::PageRun &x) {
            return p < x.first_page + x.n_pages;
        });
        for (const image::PageRun *run = first; run < runs + q.n_runs && run->first_page < last; ++run) {
            const uint64_t from = std::max<uint64_t>(page, run->first_page);
            const uint64_t to = std::min<uint64_t>(last, run->first_page + run->n_pages);
            if (from >= to) continue;
            const uint64_t x = q.start + from * image::kPageSize;
            if (run->flags & image::kRunInherited) {
                if (!resolve_range(level + 1, x, q.start + to * image::kPageSize, base, out, why)) return false;
            } else {
                const uint64_t off = run_offset_[level][size_t(run - img.runs.data())] +
                                     (from - run->first_page) * image::kPageSize;
                out.push_back({(x - base) / image::kPageSize, to - from, uint32_t(level), off});
            }
        }
        at = stop;  // pages of [at, stop) no run covers: zero in this ancestor, so zero now
    }
    return true;
}

}  // namespace ckpt
