#include "image_chain.h"

#include <fcntl.h>

#include "checksum.h"
#include "image_writer.h"
#include "sys/raw_syscall.h"

namespace ckpt::chain {
namespace {

// The header of version `v` in `dirfd` if it is a format-6 image whose header is intact.
bool read_header(int dirfd, uint64_t v, image::ImageHeader &h)
{
    char name[64];
    image_file_name(v, name, sizeof name);
    const long fd = sys_openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0) return false;
    const long n = sys_pread(int(fd), &h, sizeof h, 0);
    sys_close(int(fd));
    if (n != long(sizeof h)) return false;
    for (size_t i = 0; i < sizeof image::kMagic; ++i)
        if (h.magic[i] != image::kMagic[i]) return false;
    if (h.format_version < 6 || h.header_size != sizeof h) return false;
    const uint64_t sum = h.header_checksum;
    h.header_checksum = 0;
    const bool ok = checksum(&h, sizeof h) == sum;
    h.header_checksum = sum;
    return ok;
}

void make_full(CaptureSet &set)
{
    for (size_t i = 0; i < set.regions.size(); ++i) {
        image::RegionRecord &r = set.regions[i];
        if (!r.inherited_pages) continue;
        for (uint32_t k = 0; k < r.n_runs; ++k) set.runs[r.first_run + k].flags &= ~uint32_t(image::kRunInherited);
        r.data_pages += r.inherited_pages;
        r.inherited_pages = 0;
    }
    set.changes.base_version = 0;
    set.chain = {};
}

}  // namespace

void choose_parent(CaptureSet &set, int dirfd, uint32_t full_every)
{
    set.chain = {};
    const uint64_t base = set.changes.base_version;
    image::ImageHeader h;
    // The base must be committed, intact and of this format (an older image has no place for
    // inherited runs), and the chain shorter than full_every increments.
    // Compressed images are never links: a restore reads inherited runs with one pread each,
    // which needs raw blocks (restore_chain.cpp).
    if (!base || full_every == 0 || set.compress_level != 0 || !read_header(dirfd, base, h) ||
        h.chain_depth >= full_every || (h.image_flags & image::kImageCompressed)) {
        set.changes.base_version = 0;
        return;
    }
    set.chain.parent_version = base;
    set.chain.parent_checksum = h.header_checksum;
    set.chain.depth = h.chain_depth + 1;
    // The increments before this one (the full image at the root does not count).
    for (uint32_t d = h.chain_depth; d > 0; --d) {
        set.chain.increment_bytes += h.image_size;
        if (!read_header(dirfd, h.parent_version, h)) {
            // A link is damaged or gone: this image would not be restorable.
            set.changes.base_version = 0;
            set.chain = {};
            return;
        }
    }
}

void settle(CaptureSet &set, int dirfd)
{
    (void)dirfd;
    if (!set.chain.parent_version) return make_full(set);
    uint64_t stored = 0, inherited = 0;
    for (size_t i = 0; i < set.regions.size(); ++i) {
        stored += set.regions[i].data_pages;
        inherited += set.regions[i].inherited_pages;
    }
    // Reading the chain back must not cost much more than reading one full image: once the
    // increments hold more bytes than the memory they describe, a full image again.
    const uint64_t memory = (stored + inherited) * image::kPageSize;
    if (set.chain.increment_bytes + stored * image::kPageSize > memory || inherited == 0) return make_full(set);
    set.chain.pages_inherited = inherited;
}

uint64_t root_version(int dirfd, uint64_t v)
{
    image::ImageHeader h;
    for (uint32_t guard = 0; guard < 100000 && read_header(dirfd, v, h); ++guard) {
        if (!(h.image_flags & image::kImageIncremental) || h.parent_version == 0 || h.parent_version >= v) break;
        v = h.parent_version;
    }
    return v;
}

}  // namespace ckpt::chain
