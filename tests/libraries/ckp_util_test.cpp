// Contract of ckp/ckp_util.h: every call, its document semantics and every error.
#include <catch2/catch.hpp>

#include <ckp/ckp_util.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "temp_dir.h"

namespace {

off_t size_of(const std::string &p)
{
    struct stat st{};
    return stat(p.c_str(), &st) == 0 ? st.st_size : -1;
}

// Flips one byte of a file at `offset` from its end (negative) or start.
void flip_byte(const std::string &p, off_t offset)
{
    int fd = open(p.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    const off_t at = offset < 0 ? size_of(p) + offset : offset;
    unsigned char c = 0;
    REQUIRE(pread(fd, &c, 1, at) == 1);
    c ^= 0xff;
    REQUIRE(pwrite(fd, &c, 1, at) == 1);
    close(fd);
}

}  // namespace

TEST_CASE("ckpOpen creates the data and index files, and rejects bad arguments", "[ckp_util]")
{
    TempDir d;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    CHECK(size_of(d / "c") > 0);
    CHECK(size_of(d / "c.idx") > 0);
    CHECK(ckpClose(f) == 0);
    CHECK(ckpOpen(nullptr, nullptr, &f) == EINVAL);
    CHECK(ckpOpen("", nullptr, &f) == EINVAL);
    CHECK(ckpOpen((d / "c").c_str(), nullptr, nullptr) == EINVAL);
    CHECK(ckpOpen((d / "c").c_str(), "sync", &f) == EINVAL);
    CHECK(ckpOpen((d / "c").c_str(), "", &f) == 0);
    CHECK(ckpClose(f) == 0);
    CHECK(ckpOpen((d / "missing-dir/c").c_str(), nullptr, &f) == ENOENT);
    CHECK(ckpClose(nullptr) == EINVAL);
}

TEST_CASE("ckpOpen refuses a file of another format and a second writer", "[ckp_util]")
{
    TempDir d;
    std::ofstream(d / "other") << "this is some other file, long enough to have a header";
    std::ofstream(d / "other.idx") << "and this is not an index either, long enough too";
    CheckpointFile f = nullptr;
    CHECK(ckpOpen((d / "other").c_str(), nullptr, &f) == EPROTO);

    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    CheckpointFile g = nullptr;
    CHECK(ckpOpen((d / "c").c_str(), nullptr, &g) == EBUSY);
    CHECK(ckpClose(f) == 0);
    CHECK(ckpOpen((d / "c").c_str(), nullptr, &g) == 0);  // the lock went with the close
    CHECK(ckpClose(g) == 0);

    // A newer format version: the version word of the index header.
    int fd = open((d / "c.idx").c_str(), O_RDWR);
    const uint32_t v = 99;
    REQUIRE(pwrite(fd, &v, 4, 8) == 4);
    close(fd);
    CHECK(ckpOpen((d / "c").c_str(), nullptr, &f) == EPROTO);
}

TEST_CASE("ckpRegister, ckpLocate and ckpUnregister", "[ckp_util]")
{
    TempDir d;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    int a = 1, b = 2;
    Checkpoint ca = nullptr, cb = nullptr, dup = nullptr;
    REQUIRE(ckpRegister(f, "a", &a, sizeof a, &ca) == 0);
    REQUIRE(ckpRegister(f, "b", &b, sizeof b, &cb) == 0);
    CHECK(ckpRegister(f, "a", &b, sizeof b, &dup) == EEXIST);
    CHECK(ckpRegister(nullptr, "x", &a, sizeof a, &dup) == EINVAL);
    CHECK(ckpRegister(f, nullptr, &a, sizeof a, &dup) == EINVAL);
    CHECK(ckpRegister(f, "", &a, sizeof a, &dup) == EINVAL);
    CHECK(ckpRegister(f, "x", nullptr, sizeof a, &dup) == EINVAL);
    CHECK(ckpRegister(f, "x", &a, sizeof a, nullptr) == EINVAL);
    CHECK(ckpLocate(f, "a") == ca);
    CHECK(ckpLocate(f, "b") == cb);
    errno = 0;
    CHECK(ckpLocate(f, "nope") == nullptr);
    CHECK(errno == ENOENT);
    CHECK(ckpLocate(nullptr, "a") == nullptr);
    CHECK(errno == EINVAL);
    CHECK(ckpUnregister(ca) == 0);
    CHECK(ckpLocate(f, "a") == nullptr);
    CHECK(ckpUnregister(nullptr) == EINVAL);
    REQUIRE(ckpRegister(f, "a", &a, sizeof a, &ca) == 0);  // the name is free again
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("every save appends a version; versions are absolute 1..N or relative 0..-N+1", "[ckp_util]")
{
    TempDir d;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    int x = 0;
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "x", &x, sizeof x, &c) == 0);
    CHECK(ckpVersions(c) == 0);
    CHECK(ckpRestore(c, 0) == ENOENT);  // never saved
    for (x = 10; x <= 13; ++x) REQUIRE(ckpSave(c) == 0);
    CHECK(ckpVersions(c) == 4);
    const std::vector<std::pair<int, int>> expect = {{1, 10}, {2, 11}, {3, 12}, {4, 13},
                                                     {0, 13}, {-1, 12}, {-2, 11}, {-3, 10}};
    for (auto [version, value] : expect) {
        x = -1;
        REQUIRE(ckpRestore(c, version) == 0);
        CHECK(x == value);
    }
    x = 77;
    CHECK(ckpRestore(c, 5) == ERANGE);
    CHECK(ckpRestore(c, -4) == ERANGE);
    CHECK(x == 77);  // untouched by a failed restore
    CHECK(ckpSave(nullptr) == EINVAL);
    CHECK(ckpRestore(nullptr, 0) == EINVAL);
    CHECK(ckpVersions(nullptr) == -1);
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("versions survive a reopen, into a region registered at another address", "[ckp_util]")
{
    TempDir d;
    struct State {
        long step;
        char text[32];
    };
    {
        CheckpointFile f = nullptr;
        REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
        State s{42, "forty-two"};
        Checkpoint c = nullptr;
        REQUIRE(ckpRegister(f, "state", &s, sizeof s, &c) == 0);
        REQUIRE(ckpSave(c) == 0);
        s.step = 43;
        REQUIRE(ckpSave(c) == 0);
        REQUIRE(ckpClose(f) == 0);
    }
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    std::vector<State> elsewhere(3);  // a different address than the saved one
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "state", &elsewhere[2], sizeof(State), &c) == 0);
    CHECK(ckpVersions(c) == 2);
    REQUIRE(ckpRestore(c, -1) == 0);
    CHECK(elsewhere[2].step == 42);
    CHECK(std::string(elsewhere[2].text) == "forty-two");
    REQUIRE(ckpRestore(c, 0) == 0);
    CHECK(elsewhere[2].step == 43);
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("restoring into a region of another size is refused", "[ckp_util]")
{
    TempDir d;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    int small = 5;
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "r", &small, sizeof small, &c) == 0);
    REQUIRE(ckpSave(c) == 0);
    REQUIRE(ckpUnregister(c) == 0);
    long big = 9;
    REQUIRE(ckpRegister(f, "r", &big, sizeof big, &c) == 0);
    CHECK(ckpRestore(c, 0) == EMSGSIZE);
    CHECK(big == 9);
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("ckpSaveAll and ckpRestoreAll act on every registered region", "[ckp_util]")
{
    TempDir d;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    int a = 1;
    double b = 1.5;
    Checkpoint ca = nullptr, cb = nullptr;
    REQUIRE(ckpRegister(f, "a", &a, sizeof a, &ca) == 0);
    REQUIRE(ckpRegister(f, "b", &b, sizeof b, &cb) == 0);
    REQUIRE(ckpSaveAll(f) == 0);
    a = 2;
    b = 2.5;
    REQUIRE(ckpSaveAll(f) == 0);
    a = 0;
    b = 0;
    REQUIRE(ckpRestoreAll(f, 1) == 0);
    CHECK(a == 1);
    CHECK(b == 1.5);
    REQUIRE(ckpRestoreAll(f, 0) == 0);
    CHECK(a == 2);
    CHECK(b == 2.5);
    CHECK(ckpRestoreAll(f, 3) == ERANGE);
    CHECK(ckpSaveAll(nullptr) == EINVAL);
    CHECK(ckpRestoreAll(nullptr, 0) == EINVAL);

    // One region without the version asked for: nothing is restored (all or none).
    int c = 7;
    Checkpoint cc = nullptr;
    REQUIRE(ckpRegister(f, "c", &c, sizeof c, &cc) == 0);
    REQUIRE(ckpSave(cc) == 0);  // c has 1 version, a and b have 2
    a = 100;
    c = 100;
    CHECK(ckpRestoreAll(f, 2) == ERANGE);
    CHECK(a == 100);
    CHECK(c == 100);
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("a damaged version is reported and never restored; older versions still are", "[ckp_util]")
{
    TempDir d;
    std::vector<char> buf(1 << 16);
    {
        CheckpointFile f = nullptr;
        REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
        Checkpoint c = nullptr;
        REQUIRE(ckpRegister(f, "buf", buf.data(), buf.size(), &c) == 0);
        std::memset(buf.data(), 'A', buf.size());
        REQUIRE(ckpSave(c) == 0);
        std::memset(buf.data(), 'B', buf.size());
        REQUIRE(ckpSave(c) == 0);
        REQUIRE(ckpClose(f) == 0);
    }
    flip_byte(d / "c", -100);  // inside version 2's data (the last bytes of the data file)
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "buf", buf.data(), buf.size(), &c) == 0);
    std::memset(buf.data(), 'Z', buf.size());
    CHECK(ckpRestore(c, 0) == EBADMSG);
    CHECK(buf[0] == 'Z');
    CHECK(buf[buf.size() - 100] == 'Z');
    CHECK(ckpRestoreAll(f, 0) == EBADMSG);
    CHECK(buf[0] == 'Z');
    REQUIRE(ckpRestore(c, 1) == 0);
    CHECK(buf[0] == 'A');
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("a damaged index record before the end is reported by ckpOpen", "[ckp_util]")
{
    TempDir d;
    int x = 1;
    {
        CheckpointFile f = nullptr;
        REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
        Checkpoint c = nullptr;
        REQUIRE(ckpRegister(f, "x", &x, sizeof x, &c) == 0);
        REQUIRE(ckpSave(c) == 0);
        REQUIRE(ckpSave(c) == 0);
        REQUIRE(ckpClose(f) == 0);
    }
    flip_byte(d / "c.idx", 16 + 30);  // inside the first record
    CheckpointFile f = nullptr;
    CHECK(ckpOpen((d / "c").c_str(), nullptr, &f) == EBADMSG);
}

TEST_CASE("a torn last index record is invisible and is replaced by the next save", "[ckp_util]")
{
    TempDir d;
    int x = 1;
    {
        CheckpointFile f = nullptr;
        REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
        Checkpoint c = nullptr;
        REQUIRE(ckpRegister(f, "x", &x, sizeof x, &c) == 0);
        REQUIRE(ckpSave(c) == 0);
        // The second save is a large record (a long name), so that the remnant of it left by the
        // tear is longer than the small record that replaces it.
        x = 2;
        int y = 0;
        Checkpoint cy = nullptr;
        REQUIRE(ckpRegister(f, std::string(300, 'y').c_str(), &y, sizeof y, &cy) == 0);
        REQUIRE(ckpSaveAll(f) == 0);
        REQUIRE(ckpClose(f) == 0);
    }
    // Cut the second record short, as a crash in its write would.
    const off_t full = size_of(d / "c.idx");
    REQUIRE(truncate((d / "c.idx").c_str(), full - 20) == 0);
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "x", &x, sizeof x, &c) == 0);
    CHECK(ckpVersions(c) == 1);
    REQUIRE(ckpRestore(c, 0) == 0);
    CHECK(x == 1);
    x = 3;
    REQUIRE(ckpSave(c) == 0);
    REQUIRE(ckpClose(f) == 0);
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    REQUIRE(ckpRegister(f, "x", &x, sizeof x, &c) == 0);
    CHECK(ckpVersions(c) == 2);
    REQUIRE(ckpRestore(c, 0) == 0);
    CHECK(x == 3);
    REQUIRE(ckpRestore(c, 1) == 0);
    CHECK(x == 1);
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("a region larger than one streaming chunk saves and restores byte for byte", "[ckp_util]")
{
    TempDir d;
    std::vector<unsigned char> big(20u << 20);  // 20 MiB: three chunks of 8 MiB
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<unsigned char>(i * 2654435761u >> 13);
    const std::vector<unsigned char> want = big;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "big", big.data(), big.size(), &c) == 0);
    REQUIRE(ckpSave(c) == 0);
    std::fill(big.begin(), big.end(), 0);
    REQUIRE(ckpRestore(c, 0) == 0);
    CHECK(big == want);
    CHECK(ckpClose(f) == 0);
}

TEST_CASE("a zero-length region saves and restores", "[ckp_util]")
{
    TempDir d;
    CheckpointFile f = nullptr;
    REQUIRE(ckpOpen((d / "c").c_str(), nullptr, &f) == 0);
    char none[1];
    Checkpoint c = nullptr;
    REQUIRE(ckpRegister(f, "empty", none, 0, &c) == 0);
    REQUIRE(ckpSave(c) == 0);
    CHECK(ckpRestore(c, 0) == 0);
    CHECK(ckpClose(f) == 0);
}
