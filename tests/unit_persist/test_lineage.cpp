// A rollback's retirement of the versions newer than its target (runtime/persistent/lineage.h):
// done at once, or left half done by a crash and completed by the next recovery.
#include <catch.hpp>

#include "lineage.h"
#include "pct_writer.h"

using namespace ckpt;
using namespace test;

namespace {

std::string image(const TempDir &job, int v)
{
    char n[32];
    std::snprintf(n, sizeof n, "/ckpt-%06d.img", v);
    return job.path + n;
}

}  // namespace

TEST_CASE("a rollback retires every newer version, and only those")
{
    TempDir job;
    for (int v = 1; v <= 4; ++v) put(image(job, v), "image " + std::to_string(v));
    const persist::Retirement r = persist::retire_newer(job.path, 2);
    CHECK(r.ok);
    CHECK(r.retired.size() == 2);
    CHECK(exists(image(job, 1)));
    CHECK(exists(image(job, 2)));
    CHECK(!exists(image(job, 3)));
    CHECK(!exists(image(job, 4)));
    CHECK(!exists(job.path + "/lineage"));
    CHECK(persist::resolve_lineage(job.path).retired.empty());
}

TEST_CASE("a retirement a crash interrupted is completed by the next recovery, towards the rollback's target")
{
    TempDir job;
    for (int v = 1; v <= 3; ++v) put(image(job, v), "image " + std::to_string(v));
    put(job.path + "/.protected-4242", "protected bytes of a rollback that died");
    // Died right after the record was written: nothing deleted yet.
    REQUIRE(persist::retire_newer(job.path, 1, /*test_stop_after_record=*/true).ok);
    REQUIRE(exists(job.path + "/lineage"));
    REQUIRE(exists(image(job, 3)));
    // Meanwhile version 2 is another file (not the one the record names): it stays.
    TempDir elsewhere;  // the old inode stays alive, so the new file cannot reuse its number
    REQUIRE(::rename(image(job, 2).c_str(), (elsewhere.path + "/old-2").c_str()) == 0);
    put(image(job, 2), "a newer checkpoint of the new timeline");
    const persist::Retirement r = persist::resolve_lineage(job.path);
    CHECK(r.ok);
    CHECK(r.target == 1);
    CHECK(r.retired == std::vector<uint64_t>{3});
    CHECK(exists(image(job, 1)));
    CHECK(exists(image(job, 2)));
    CHECK(!exists(image(job, 3)));
    CHECK(!exists(job.path + "/lineage"));
    CHECK(!exists(job.path + "/.protected-4242"));
    // Done: resolving again changes nothing.
    CHECK(persist::resolve_lineage(job.path).retired.empty());
    CHECK(exists(image(job, 2)));
}
