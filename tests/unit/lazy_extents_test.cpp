// The lazy loader's view of where the image's pages are now (launcher/restorer/lazy_extents.h),
// as MADV_DONTNEED, munmap and mremap events arrive.
#include <catch2/catch.hpp>

#include "../../launcher/restorer/lazy_extents.h"

using ckpt::restorer::lazy::Extent;
using ckpt::restorer::lazy::find_now;
using ckpt::restorer::lazy::kill_range;
using ckpt::restorer::lazy::move_range;

namespace {

constexpr uint64_t P = 4096;

// The image address whose page is now at `addr`, or 0 if none is.
uint64_t image_addr(const std::vector<Extent> &ext, uint64_t addr)
{
    const Extent *e = find_now(ext, addr);
    return e ? addr - uint64_t(e->delta) : 0;
}

}  // namespace

TEST_CASE("lazy extents: a dropped range is dead, the rest stays where it was", "[lazy]")
{
    std::vector<Extent> ext{{100 * P, 200 * P, 0, true}};
    kill_range(ext, 150 * P, 160 * P);
    CHECK(image_addr(ext, 149 * P) == 149 * P);
    CHECK(image_addr(ext, 150 * P) == 0);
    CHECK(image_addr(ext, 159 * P) == 0);
    CHECK(image_addr(ext, 160 * P) == 160 * P);
    CHECK(image_addr(ext, 200 * P) == 0);  // never the image's
    // Dropping again, or beyond the region, changes nothing else.
    kill_range(ext, 140 * P, 300 * P);
    CHECK(image_addr(ext, 139 * P) == 139 * P);
    CHECK(image_addr(ext, 170 * P) == 0);
}

TEST_CASE("lazy extents: mremap moves pages, and a later drop at the new place finds them", "[lazy]")
{
    std::vector<Extent> ext{{100 * P, 200 * P, 0, true}, {300 * P, 310 * P, 0, true}};
    // The middle of the first region moves above everything.
    move_range(ext, 120 * P, 1000 * P, 20 * P);
    CHECK(image_addr(ext, 119 * P) == 119 * P);
    CHECK(image_addr(ext, 120 * P) == 0);  // nothing is there now
    CHECK(image_addr(ext, 1000 * P) == 120 * P);
    CHECK(image_addr(ext, 1019 * P) == 139 * P);
    CHECK(image_addr(ext, 1020 * P) == 0);
    // Moved again, down onto the second region, which that move unmaps.
    move_range(ext, 1000 * P, 300 * P, 5 * P);
    CHECK(image_addr(ext, 300 * P) == 120 * P);
    CHECK(image_addr(ext, 304 * P) == 124 * P);
    CHECK(image_addr(ext, 305 * P) == 305 * P);  // the rest of the second region is untouched
    CHECK(image_addr(ext, 1000 * P) == 0);
    CHECK(image_addr(ext, 1005 * P) == 125 * P);
    // Dropped where it is now.
    kill_range(ext, 1005 * P, 1006 * P);
    CHECK(image_addr(ext, 1005 * P) == 0);
    CHECK(image_addr(ext, 1006 * P) == 126 * P);
}

TEST_CASE("lazy extents: a move down by more than the address itself works (negative delta)", "[lazy]")
{
    std::vector<Extent> ext{{0x7f0000000000, 0x7f0000100000, 0, true}};
    move_range(ext, 0x7f0000000000, 0x10000, 0x100000);
    CHECK(image_addr(ext, 0x10000) == 0x7f0000000000);
    CHECK(image_addr(ext, 0x10000 + 0xfffff000) == 0);
    CHECK(image_addr(ext, 0x10000 + 0xff000) == 0x7f00000ff000);
    CHECK(image_addr(ext, 0x7f0000000000) == 0);
}
