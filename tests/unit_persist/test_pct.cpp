// The PCT log format and its reader: round trip, torn tails, checksum failures.
#include <catch.hpp>

#include "pct_writer.h"
#include "undo.h"

using namespace ckpt;
using namespace test;

TEST_CASE("PCT round trip: every field of every record kind reads back")
{
    TempDir t;
    const std::string f = t.path + "/file";
    put(f, "hello world");
    struct stat st;
    ::stat(f.c_str(), &st);
    PctWriter w(t.path, 7);
    w.add(pct::Kind::Meta, f, "", "", 0, 0, &st);
    w.add(pct::Kind::Data, f, "", "old bytes", 4096);
    w.add(pct::Kind::Create, t.path + "/new", "", "", 0, pct::kDir);
    w.add(pct::Kind::Removed, f, "", "", 0, pct::kCopied, &st, 42);
    w.add(pct::Kind::Rename, t.path + "/a", t.path + "/b", "", 0, 0, nullptr, 0, 99);
    w.add(pct::Kind::Exclude, "*.log");

    persist::PctLog log = persist::read_pct(w.path());
    REQUIRE(log.header_ok);
    CHECK(log.clean());
    CHECK(log.header.epoch == 7);
    REQUIRE(log.records.size() == 6);
    for (size_t i = 0; i < log.records.size(); ++i) CHECK(log.records[i].header.seq == i);
    const auto &m = log.records[0];
    CHECK(m.kind() == pct::Kind::Meta);
    CHECK(m.path == f);
    CHECK(m.header.size == 11);
    CHECK(m.header.mode == st.st_mode);
    CHECK(m.header.ino == st.st_ino);
    CHECK(m.header.mtime_ns == int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
    const auto &d = log.records[1];
    CHECK(d.kind() == pct::Kind::Data);
    CHECK(d.header.offset == 4096);
    std::string data;
    REQUIRE(persist::read_record_data(w.path(), d, data));
    CHECK(data == "old bytes");
    CHECK(log.records[2].header.flags == pct::kDir);
    CHECK(log.records[3].header.undo_id == 42);
    CHECK(log.records[4].path2 == t.path + "/b");
    CHECK(log.records[4].header.ino == 99);
    CHECK(log.records[5].path == "*.log");
    CHECK(log.valid_bytes == log.file_size);
    CHECK(persist::describe(d).find("range=4096+9") != std::string::npos);
}

TEST_CASE("PCT: a torn tail is ignored, at every possible cut")
{
    TempDir t;
    PctWriter w(t.path, 1);
    w.add(pct::Kind::Create, t.path + "/one");
    const uint64_t last = w.add(pct::Kind::Data, t.path + "/two", "", std::string(3000, 'z'), 0);
    const uint64_t full = uint64_t(::lseek(::open(w.path().c_str(), O_RDONLY), 0, SEEK_END));
    for (uint64_t cut = last + 1; cut < full; cut += 97) {
        const std::string copy = t.path + "/cut.log";
        put_own(copy, slurp(w.path()).substr(0, cut));
        persist::PctLog log = persist::read_pct(copy);
        REQUIRE(log.header_ok);
        CHECK(log.records.size() == 1);
        CHECK(log.torn_tail);
        CHECK(log.bad_records.empty());
        CHECK(log.valid_bytes == last);
    }
    // A header that never completed: an empty log.
    put_own(t.path + "/short.log", slurp(w.path()).substr(0, 20));
    persist::PctLog shortlog = persist::read_pct(t.path + "/short.log");
    CHECK(!shortlog.header_ok);
    CHECK(shortlog.records.empty());
}

TEST_CASE("PCT: checksum failures are detected")
{
    TempDir t;
    PctWriter w(t.path, 3);
    w.add(pct::Kind::Create, t.path + "/one");
    const uint64_t mid = w.add(pct::Kind::Create, t.path + "/two");
    const uint64_t dat = w.add(pct::Kind::Data, t.path + "/three", "", "some old data", 0);
    w.add(pct::Kind::Create, t.path + "/four");

    SECTION("a damaged record in the middle is reported and skipped, the rest is read")
    {
        std::string s = slurp(w.path());
        s[mid + sizeof(pct::RecordHeader) + 3] ^= 0x40;  // a byte of its path
        put(w.path(), s);
        persist::PctLog log = persist::read_pct(w.path());
        CHECK(log.records.size() == 3);
        REQUIRE(log.bad_records.size() == 1);
        CHECK(log.bad_records[0] == mid);
        CHECK(!log.torn_tail);
        CHECK(!log.clean());
        CHECK(!persist::verify_epoch(t.path, 3).ok);
    }
    SECTION("damaged old data fails its own checksum")
    {
        std::string s = slurp(w.path());
        persist::PctLog before = persist::read_pct(w.path());
        s[before.records[2].data_offset + 2] ^= 0x01;
        put(w.path(), s);
        persist::PctLog log = persist::read_pct(w.path());
        CHECK(log.records.size() == 4);  // the header is intact
        std::string data;
        CHECK(!persist::read_record_data(w.path(), log.records[2], data));
        persist::VerifyResult v = persist::verify_epoch(t.path, 3);
        CHECK(!v.ok);
        CHECK(v.problems.size() == 1);
        (void)dat;
    }
    SECTION("a damaged file header makes the log unreadable")
    {
        std::string s = slurp(w.path());
        s[9] ^= 0x10;
        put(w.path(), s);
        persist::PctLog log = persist::read_pct(w.path());
        CHECK(!log.header_ok);
        CHECK(!log.error.empty());
        // ... and recovery refuses rather than guessing.
        persist::UndoResult r = persist::undo_to(t.path, 0, {});
        CHECK(!r.ok);
    }
    SECTION("an intact log verifies")
    {
        persist::VerifyResult v = persist::verify_epoch(t.path, 3);
        CHECK(v.ok);
        CHECK(v.records == 4);
        CHECK(v.data_bytes == 13);
    }
}
