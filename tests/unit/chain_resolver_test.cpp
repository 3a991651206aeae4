// Incremental images, the reading side (runtime/chain_reader.h): where the bytes of each run
// come from when a chain of images is composed. Images built in memory: the resolver needs
// only their regions and runs.
#include <catch2/catch.hpp>

#include "chain_reader.h"

using namespace ckpt;
using image::kPageSize;
using image::kRunInherited;

namespace {

constexpr uint64_t kBase = 0x10000000;

// One region [kBase, kBase + pages) whose runs are (first, n, inherited); stored runs' data
// start at `data_offset`.
Image image_with(uint64_t pages, std::vector<image::PageRun> runs, uint64_t data_offset)
{
    Image img;
    image::RegionRecord r{};
    r.start = kBase;
    r.end = kBase + pages * kPageSize;
    r.kind = image::RegionKind::Anonymous;
    r.first_run = 0;
    r.n_runs = uint32_t(runs.size());
    r.data_offset = data_offset;
    for (const auto &run : runs) (run.flags & kRunInherited ? r.inherited_pages : r.data_pages) += run.n_pages;
    img.regions.push_back(r);
    img.runs = std::move(runs);
    return img;
}

std::vector<ChainPiece> resolve(const std::vector<const Image *> &chain)
{
    std::vector<ChainPiece> out;
    std::string why;
    INFO(why);
    REQUIRE(ChainResolver(chain).resolve_region(0, out, why));
    return out;
}

}  // namespace

TEST_CASE("chain resolver: stored runs come from the image itself, inherited ones from the parent")
{
    // Parent: pages 0-9 stored at 4096. Child: page 3 stored, 0-2 and 4-9 inherited.
    const Image parent = image_with(16, {{0, 10, 0}}, 4096);
    const Image child = image_with(16, {{0, 3, kRunInherited}, {3, 1, 0}, {4, 6, kRunInherited}}, 8192);
    const auto p = resolve({&child, &parent});
    REQUIRE(p.size() == 3);
    CHECK((p[0].first_page == 0 && p[0].n_pages == 3 && p[0].src == 1 && p[0].offset == 4096));
    CHECK((p[1].first_page == 3 && p[1].n_pages == 1 && p[1].src == 0 && p[1].offset == 8192));
    CHECK((p[2].first_page == 4 && p[2].n_pages == 6 && p[2].src == 1 && p[2].offset == 4096 + 4 * kPageSize));
}

TEST_CASE("chain resolver: through two links, and pages an ancestor did not have are zero")
{
    // Grandparent stores 0-7; parent stores 2 (and inherits 0-1, 3-7); child inherits 0-7 and
    // 12-13, which no ancestor had (read as the zero page since): no piece, zero.
    const Image grand = image_with(16, {{0, 8, 0}}, 4096);
    const Image parent = image_with(16, {{0, 2, kRunInherited}, {2, 1, 0}, {3, 5, kRunInherited}}, 4096);
    const Image child = image_with(16, {{0, 8, kRunInherited}, {12, 2, kRunInherited}}, 4096);
    const auto p = resolve({&child, &parent, &grand});
    REQUIRE(p.size() == 3);
    CHECK((p[0].first_page == 0 && p[0].n_pages == 2 && p[0].src == 2 && p[0].offset == 4096));
    CHECK((p[1].first_page == 2 && p[1].n_pages == 1 && p[1].src == 1 && p[1].offset == 4096));
    CHECK((p[2].first_page == 3 && p[2].n_pages == 5 && p[2].src == 2 && p[2].offset == 4096 + 3 * kPageSize));
}

TEST_CASE("chain resolver: inherited pages outside the ancestors' memory, or past the chain, are refused")
{
    const Image child = image_with(16, {{0, 4, kRunInherited}}, 4096);
    std::vector<ChainPiece> out;
    std::string why;
    CHECK_FALSE(ChainResolver({&child}).resolve_region(0, out, why));
    CHECK(why.find("past the end of the chain") != std::string::npos);
    Image elsewhere = image_with(16, {{0, 4, 0}}, 4096);
    elsewhere.regions[0].start += 64 * kPageSize;
    elsewhere.regions[0].end += 64 * kPageSize;
    CHECK_FALSE(ChainResolver({&child, &elsewhere}).resolve_region(0, out, why));
    CHECK(why.find("outside the memory") != std::string::npos);
}

TEST_CASE("chain resolver: sibling image paths")
{
    CHECK(sibling_image_path("/a/b/ckpt-000012.img", 7) == "/a/b/ckpt-000007.img");
    CHECK(sibling_image_path("ckpt-000012.img", 11) == "ckpt-000011.img");
}
