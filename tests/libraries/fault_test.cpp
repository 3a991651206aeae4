// Allocation failure and store I/O failure of the three APIs (fault_inject.h): each call either
// succeeds or returns exactly its out-of-memory / I/O error, nothing crashes, and what was saved
// before (the previous version, position or dataset) is read back intact afterwards.
#include <catch2/catch.hpp>

#include <ckp/ckp_util.h>
#include <ckp/cl_ckpt_library.h>
#include <ckp/cp_file.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sqlite3.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "fault_inject.h"
#include "temp_dir.h"

namespace {

constexpr long kMaxSweep = 10000;  // a call needing more allocations than this is a test bug

// For k = 1, 2, ...: `call(k)` arms failure of the k-th allocation (fault::arm_alloc_failure)
// just before the call under test, checks its result and state, and returns true once the call
// succeeded with no failure injected (fault::disarm() false), which ends the sweep.
template <class F> long sweep(F &&call)
{
    for (long k = 1; k <= kMaxSweep; ++k) {
        const bool done = call(k);
        fault::disarm();
        if (done) return k;
    }
    FAIL("the call never succeeded");
    return 0;
}

std::string contents(const std::string &p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs `f` in a child that exits with f's result without cp_close (a crash); returns it.
template <class F> int in_child(F &&f)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(f());
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));  // no crash, no uncaught exception
    return WEXITSTATUS(status);
}

void use_store(const TempDir &d, int which)
{
    if (which == 0)
        REQUIRE(cp_use_sqlite_store((d / "store.db").c_str()) == 0);
    else
        REQUIRE(cp_use_file_store((d / "store").c_str()) == 0);
}

long tell(CP_FILE *f) { return long(cp_tell(f).__pos); }

}  // namespace

// ---------------------------------------------------------------------------------- ckp_util

TEST_CASE("ckp_util fault: allocation failure is ENOMEM and leaves the saved versions intact", "[ckp_util][fault]")
{
    TempDir d;
    const std::string path = d / "ckpt";
    char a[16] = "a-one", b[16] = "b-one";

    // ckpOpen and ckpRegister.
    CheckpointFile f = nullptr;
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const int rc = ckpOpen(path.c_str(), nullptr, &f);
        const bool hit = fault::disarm();
        CHECK((rc == 0 || rc == ENOMEM));
        return rc == 0 && !hit;
    });
    Checkpoint ca = nullptr, cb = nullptr;
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const int rc = ckpRegister(f, "a", a, sizeof a, &ca);
        const bool hit = fault::disarm();
        CHECK((rc == 0 || rc == ENOMEM));
        if (rc == ENOMEM) CHECK(ckpLocate(f, "a") == nullptr);
        return rc == 0 && !hit;
    });
    REQUIRE(ckpRegister(f, "b", b, sizeof b, &cb) == 0);
    REQUIRE(ckpSaveAll(f) == 0);

    // Reopens the file from disk and checks that region `name` has `n` versions, the newest `want`.
    auto on_disk = [&](const char *name, int n, const char *want) {
        REQUIRE(ckpClose(f) == 0);
        REQUIRE(ckpOpen(path.c_str(), nullptr, &f) == 0);
        char buf[16] = {};
        Checkpoint c = nullptr;
        REQUIRE(ckpRegister(f, name, buf, sizeof buf, &c) == 0);
        CHECK(ckpVersions(c) == n);
        REQUIRE(ckpRestore(c, 0) == 0);
        CHECK(std::string(buf) == want);
        REQUIRE(ckpClose(f) == 0);
        REQUIRE(ckpOpen(path.c_str(), nullptr, &f) == 0);
        REQUIRE(ckpRegister(f, "a", a, sizeof a, &ca) == 0);
        REQUIRE(ckpRegister(f, "b", b, sizeof b, &cb) == 0);
    };

    // ckpSave: a failed save adds no version, in memory or on disk.
    int versions = 1;
    sweep([&](long k) {
        std::snprintf(a, sizeof a, "a-%d", versions + 1);
        fault::arm_alloc_failure(k);
        const int rc = ckpSave(ca);
        const bool hit = fault::disarm();
        CHECK((rc == 0 || rc == ENOMEM));
        if (rc == 0) ++versions;
        CHECK(ckpVersions(ca) == versions);
        char want[16];
        std::snprintf(want, sizeof want, "a-%d", versions);
        if (versions == 1) std::strcpy(want, "a-one");
        on_disk("a", versions, want);
        return rc == 0 && !hit;
    });

    // ckpSaveAll: all regions or none.
    int all_versions = 1;
    sweep([&](long k) {
        std::snprintf(a, sizeof a, "A-%d", all_versions + 1);
        std::snprintf(b, sizeof b, "B-%d", all_versions + 1);
        fault::arm_alloc_failure(k);
        const int rc = ckpSaveAll(f);
        const bool hit = fault::disarm();
        CHECK((rc == 0 || rc == ENOMEM));
        if (rc == 0) ++all_versions;
        CHECK(ckpVersions(cb) == all_versions);
        CHECK(ckpVersions(ca) == versions + all_versions - 1);
        char want[16];
        std::snprintf(want, sizeof want, "B-%d", all_versions);
        if (all_versions == 1) std::strcpy(want, "b-one");
        on_disk("b", all_versions, want);
        return rc == 0 && !hit;
    });

    // ckpRestore / ckpRestoreAll: restored whole or not at all.
    const std::string saved_a = a, saved_b = b;
    sweep([&](long k) {
        std::strcpy(a, "scratch");
        fault::arm_alloc_failure(k);
        const int rc = ckpRestore(ca, 0);
        const bool hit = fault::disarm();
        CHECK((rc == 0 || rc == ENOMEM));
        CHECK(std::string(a) == (rc == 0 ? saved_a : std::string("scratch")));
        return rc == 0 && !hit;
    });
    sweep([&](long k) {
        std::strcpy(a, "scratch");
        std::strcpy(b, "scratch");
        fault::arm_alloc_failure(k);
        const int rc = ckpRestoreAll(f, 0);
        const bool hit = fault::disarm();
        CHECK((rc == 0 || rc == ENOMEM));
        CHECK(std::string(a) == (rc == 0 ? saved_a : std::string("scratch")));
        CHECK(std::string(b) == (rc == 0 ? saved_b : std::string("scratch")));
        return rc == 0 && !hit;
    });
    REQUIRE(ckpClose(f) == 0);
}

TEST_CASE("ckp_util fault: a save that cannot write fails with EFBIG and the newest version stays", "[ckp_util][fault]")
{
    TempDir d;
    const std::string path = d / "ckpt";
    char a[16] = "a-one", b[16] = "b-one";
    CheckpointFile f = nullptr;
    Checkpoint ca = nullptr, cb = nullptr;
    REQUIRE(ckpOpen(path.c_str(), nullptr, &f) == 0);
    REQUIRE(ckpRegister(f, "a", a, sizeof a, &ca) == 0);
    REQUIRE(ckpRegister(f, "b", b, sizeof b, &cb) == 0);
    REQUIRE(ckpSaveAll(f) == 0);
    std::strcpy(a, "a-two");
    std::strcpy(b, "b-two");
    {
        fault::NoFileWrites no_writes;
        CHECK(ckpSave(ca) == EFBIG);
        CHECK(ckpSaveAll(f) == EFBIG);
    }
    CHECK(ckpVersions(ca) == 1);
    CHECK(ckpVersions(cb) == 1);
    REQUIRE(ckpRestoreAll(f, 0) == 0);
    CHECK(std::string(a) == "a-one");
    CHECK(std::string(b) == "b-one");
    REQUIRE(ckpClose(f) == 0);

    // From disk, and a save works again after the failure.
    REQUIRE(ckpOpen(path.c_str(), nullptr, &f) == 0);
    REQUIRE(ckpRegister(f, "a", a, sizeof a, &ca) == 0);
    REQUIRE(ckpRegister(f, "b", b, sizeof b, &cb) == 0);
    CHECK(ckpVersions(ca) == 1);
    std::strcpy(a, "x");
    REQUIRE(ckpRestoreAll(f, 0) == 0);
    CHECK(std::string(a) == "a-one");
    std::strcpy(a, "a-two");
    REQUIRE(ckpSave(ca) == 0);
    std::strcpy(a, "x");
    REQUIRE(ckpRestore(ca, 0) == 0);
    CHECK(std::string(a) == "a-two");
    CHECK(ckpVersions(ca) == 2);
    REQUIRE(ckpClose(f) == 0);
}

// ------------------------------------------------------------------------------------ cp_file

TEST_CASE("cp_file fault: allocation failure is ENOMEM and leaves the checked position intact", "[cp_file][fault]")
{
    for (int which = 0; which < 2; ++which) {
        TempDir d;
        use_store(d, which);
        const std::string path = d / "out.txt";
        INFO("store " << which);

        // cp_open: fails whole (no entry, no open file counted) or succeeds.
        sweep([&](long k) {
            fault::arm_alloc_failure(k);
            CP_FILE *f = cp_open(path.c_str(), "w");
            const int e = errno;
            const bool hit = fault::disarm();
            if (!f) {
                CHECK(e == ENOMEM);
                return false;
            }
            CHECK(tell(f) == 0);
            REQUIRE(cp_close(f) == 0);
            return !hit;
        });
        use_store(d, which);  // EBUSY if a failed cp_open had left a file counted open

        // cp_check, in a child that then "crashes": the entry holds the old or the new position.
        sweep([&](long k) {
            const int r = in_child([&] {
                CP_FILE *f = cp_open(path.c_str(), "w");
                if (!f || cp_write(f, "abc", 1, 3) != 3 || cp_check(f) != 0) return 9;
                if (cp_write(f, "def", 1, 3) != 3) return 9;
                fault::arm_alloc_failure(k);
                const int rc = cp_check(f);
                const int e = errno;
                const bool hit = fault::disarm();
                return rc == 0 ? (hit ? 1 : 0) : e == ENOMEM ? 2 : 3;
            });
            REQUIRE(r <= 2);  // 0 ok without injection, 1 ok with it, 2 ENOMEM
            CP_FILE *f = cp_open(path.c_str(), "w");
            REQUIRE(f);
            CHECK(tell(f) == (r == 2 ? 3 : 6));
            REQUIRE(cp_close(f) == 0);
            CHECK(contents(path) == (r == 2 ? "abc" : "abcdef"));
            return r == 0;
        });

        // cp_close: completed (a new open appends at the end) or not (resumes at the check).
        sweep([&](long k) {
            std::remove(path.c_str());
            CP_FILE *f = cp_open(path.c_str(), "a");
            REQUIRE(f);
            REQUIRE(cp_write(f, "abc", 1, 3) == 3);
            REQUIRE(cp_check(f) == 0);
            REQUIRE(cp_write(f, "de", 1, 2) == 2);
            fault::arm_alloc_failure(k);
            const int rc = cp_close(f);
            const int e = errno;
            const bool hit = fault::disarm();
            if (rc != 0) CHECK(e == ENOMEM);
            f = cp_open(path.c_str(), "a");
            REQUIRE(f);
            CHECK(tell(f) == (rc == 0 ? 5 : 3));
            REQUIRE(cp_close(f) == 0);
            CHECK(contents(path) == (rc == 0 ? "abcde" : "abc"));
            return rc == 0 && !hit;
        });
        use_store(d, which);
    }
}

TEST_CASE("cp_file fault: a store that cannot write is EIO and the checked position stays", "[cp_file][fault]")
{
    for (int which = 0; which < 2; ++which) {
        TempDir d;
        use_store(d, which);
        const std::string path = d / "out.txt";
        INFO("store " << which);

        // cp_check with nothing new to flush: only the store writes, and fails.
        int r = in_child([&] {
            CP_FILE *f = cp_open(path.c_str(), "w");
            if (!f || cp_write(f, "abc", 1, 3) != 3 || cp_check(f) != 0) return 9;
            fault::NoFileWrites no_writes;
            const int rc = cp_check(f);
            return rc == 0 ? 0 : errno == EIO ? 1 : 2;
        });
        CHECK(r == 1);
        CP_FILE *f = cp_open(path.c_str(), "w");
        REQUIRE(f);
        CHECK(tell(f) == 3);
        // cp_close: its final position is not recorded, the entry stays open at the check.
        REQUIRE(cp_write(f, "def", 1, 3) == 3);
        REQUIRE(cp_check(f) == 0);
        {
            fault::NoFileWrites no_writes;
            CHECK(cp_close(f) == -1);
            CHECK(errno == EIO);
        }
        f = cp_open(path.c_str(), "a");
        REQUIRE(f);
        CHECK(tell(f) == 6);  // resumed (not completed), not a new append
        REQUIRE(cp_close(f) == 0);
        CHECK(contents(path) == "abcdef");

        // cp_open of a new file: the store cannot record it; no entry, nothing left open.
        {
            fault::NoFileWrites no_writes;
            CHECK(cp_open((d / "new.txt").c_str(), "r") == nullptr);  // ENOENT: no file
            CP_FILE *g = cp_open(path.c_str(), "a");
            const int e = errno;
            CHECK(g == nullptr);
            CHECK(e == EIO);
        }
        use_store(d, which);  // EBUSY if a file had been left counted open
        f = cp_open(path.c_str(), "a");
        REQUIRE(f);
        CHECK(tell(f) == 6);
        REQUIRE(cp_close(f) == 0);
        CHECK(contents(path) == "abcdef");
    }
}

// ---------------------------------------------------------------------------- clCkptLibrary*

namespace {

ClNameT cl_name(const char *s)
{
    ClNameT n{};
    n.length = ClUInt16T(std::strlen(s));
    std::memcpy(n.value, s, n.length);
    return n;
}

char state[64];      // what the serializers store
char got[4][64];     // what the deserializers were handed (no allocation in the callbacks)
int ngot = 0;

ClRcT f_ser(ClUInt32T, ClAddrT *buf, ClUInt32T *len, ClHandleT)
{
    const size_t n = std::strlen(state);
    *buf = static_cast<ClAddrT>(std::malloc(n + 1));
    std::memcpy(*buf, state, n);
    *len = ClUInt32T(n);
    return CL_OK;
}
ClRcT f_deser(ClUInt32T, ClAddrT *buf, ClUInt32T *len, ClHandleT)
{
    if (ngot < 4) {
        std::snprintf(got[ngot], sizeof got[ngot], "%.*s", int(*len), reinterpret_cast<char *>(*buf));
        ++ngot;
    }
    return CL_OK;
}

struct ClDb {
    TempDir dir;
    ClDb() { setenv("CL_CKPT_LIBRARY_DB", (dir / "cps.db").c_str(), 1); }
    ~ClDb() { unsetenv("CL_CKPT_LIBRARY_DB"); }
};

// The dataset's stored data and elements as read back now ("" when it cannot be read).
std::string read_ds(ClCkptSvcHdlT h, ClNameT &n, ClUInt32T ds)
{
    ngot = 0;
    if (clCkptLibraryCkptDataSetRead(h, &n, ds, 0) != CL_OK) return "";
    std::string s;
    for (int i = 0; i < ngot; ++i) s += std::string(i ? "|" : "") + got[i];
    return s;
}

bool ok_or_oom(ClRcT rc) { return rc == CL_OK || rc == CL_CKPT_ERR_NO_MEMORY; }

}  // namespace

TEST_CASE("clCkptLibrary fault: allocation failure is CL_CKPT_ERR_NO_MEMORY and the dataset stays intact", "[cps][fault]")
{
    ClDb db;
    ClCkptSvcHdlT h = 0;
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryInitialize(&h);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        return rc == CL_OK && !hit;
    });
    ClNameT n = cl_name("ckpt-f");
    ClBoolT there = CL_FALSE;
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptCreate(h, &n);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        REQUIRE(clCkptLibraryDoesCkptExist(h, &n, &there) == CL_OK);
        CHECK(there == (rc == CL_OK ? CL_TRUE : CL_FALSE));
        return rc == CL_OK && !hit;
    });
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryDoesCkptExist(h, &n, &there);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        return rc == CL_OK && !hit;
    });
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, f_ser, f_deser);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 1, &there) == CL_OK);
        CHECK(there == (rc == CL_OK ? CL_TRUE : CL_FALSE));
        return rc == CL_OK && !hit;
    });
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptElementCreate(h, &n, 1, f_ser, f_deser);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        return rc == CL_OK && !hit;
    });
    std::strcpy(state, "one");
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_OK);
    REQUIRE(read_ds(h, n, 1) == "one");

    int gen = 1;
    sweep([&](long k) {
        std::snprintf(state, sizeof state, "gen-%d", gen + 1);
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptDataSetWrite(h, &n, 1, 0);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        if (rc == CL_OK) ++gen;
        char want[64];
        std::snprintf(want, sizeof want, "gen-%d", gen);
        CHECK(read_ds(h, n, 1) == (gen == 1 ? std::string("one") : std::string(want)));
        return rc == CL_OK && !hit;
    });
    const std::string ds_now = read_ds(h, n, 1);
    const char key[] = "k1";
    sweep([&](long k) {
        std::strcpy(state, "elem");
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptElementWrite(h, &n, 1, const_cast<char *>(key), 2, 0);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        CHECK(read_ds(h, n, 1) == (rc == CL_OK ? ds_now + "|elem" : ds_now));
        return rc == CL_OK && !hit;
    });
    sweep([&](long k) {
        ngot = 0;
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptDataSetRead(h, &n, 1, 0);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        return rc == CL_OK && !hit;
    });
    CHECK(read_ds(h, n, 1) == ds_now + "|elem");
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryDoesDatasetExist(h, &n, 1, &there);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        return rc == CL_OK && !hit;
    });
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptDataSetDelete(h, &n, 1);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 1, &there) == CL_OK);
        CHECK(there == (rc == CL_OK ? CL_FALSE : CL_TRUE));
        if (rc != CL_OK) CHECK(read_ds(h, n, 1) == ds_now + "|elem");
        return rc == CL_OK && !hit;
    });
    sweep([&](long k) {
        fault::arm_alloc_failure(k);
        const ClRcT rc = clCkptLibraryCkptDelete(h, &n);
        const bool hit = fault::disarm();
        CHECK(ok_or_oom(rc));
        REQUIRE(clCkptLibraryDoesCkptExist(h, &n, &there) == CL_OK);
        CHECK(there == (rc == CL_OK ? CL_FALSE : CL_TRUE));
        return rc == CL_OK && !hit;
    });
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}

TEST_CASE("clCkptLibrary fault: a database that cannot be written is CL_CKPT_ERR_IO and the dataset stays", "[cps][fault]")
{
    ClDb db;
    ClCkptSvcHdlT h = 0;
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    ClNameT n = cl_name("ckpt-io"), other = cl_name("ckpt-other");
    REQUIRE(clCkptLibraryCkptCreate(h, &n) == CL_OK);
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, f_ser, f_deser) == CL_OK);
    REQUIRE(clCkptLibraryCkptElementCreate(h, &n, 1, f_ser, f_deser) == CL_OK);
    std::strcpy(state, "one");
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_OK);
    std::strcpy(state, "e1");
    REQUIRE(clCkptLibraryCkptElementWrite(h, &n, 1, const_cast<char *>("k"), 1, 0) == CL_OK);
    REQUIRE(read_ds(h, n, 1) == "one|e1");

    std::strcpy(state, "two");
    // Twice: alone, each call's connection cannot even create the -wal file; with a second
    // connection holding the database open (its -wal and -shm stay), the connection opens and
    // the transaction's write fails.
    for (int held = 0; held < 2; ++held) {
        INFO("held " << held);
        sqlite3 *holder = nullptr;
        if (held) {
            REQUIRE(sqlite3_open(getenv("CL_CKPT_LIBRARY_DB"), &holder) == SQLITE_OK);
            REQUIRE(sqlite3_exec(holder, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) == SQLITE_OK);
        }
        {
            fault::NoFileWrites no_writes;
            CHECK(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_CKPT_ERR_IO);
            CHECK(clCkptLibraryCkptElementWrite(h, &n, 1, const_cast<char *>("k"), 1, 0) == CL_CKPT_ERR_IO);
            CHECK(clCkptLibraryCkptElementWrite(h, &n, 1, const_cast<char *>("j"), 1, 0) == CL_CKPT_ERR_IO);
            CHECK(clCkptLibraryCkptCreate(h, &other) == CL_CKPT_ERR_IO);
            CHECK(clCkptLibraryCkptDataSetCreate(h, &n, 2, 0, 0, f_ser, f_deser) == CL_CKPT_ERR_IO);
            CHECK(clCkptLibraryCkptDataSetDelete(h, &n, 1) == CL_CKPT_ERR_IO);
            CHECK(clCkptLibraryCkptDelete(h, &n) == CL_CKPT_ERR_IO);
        }
        if (holder) REQUIRE(sqlite3_close(holder) == SQLITE_OK);
        CHECK(read_ds(h, n, 1) == "one|e1");
    }
    ClBoolT there = CL_TRUE;
    REQUIRE(clCkptLibraryDoesCkptExist(h, &other, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    REQUIRE(clCkptLibraryDoesDatasetExist(h, &n, 2, &there) == CL_OK);
    CHECK(there == CL_FALSE);
    // A new initialization (as after a restart) reads the same, and writing works again.
    REQUIRE(clCkptLibraryFinalize(h) == CL_OK);
    REQUIRE(clCkptLibraryInitialize(&h) == CL_OK);
    REQUIRE(clCkptLibraryCkptDataSetCreate(h, &n, 1, 0, 0, f_ser, f_deser) == CL_OK);
    REQUIRE(clCkptLibraryCkptElementCreate(h, &n, 1, f_ser, f_deser) == CL_OK);
    CHECK(read_ds(h, n, 1) == "one|e1");
    REQUIRE(clCkptLibraryCkptDataSetWrite(h, &n, 1, 0) == CL_OK);
    CHECK(read_ds(h, n, 1) == "two|e1");
    CHECK(clCkptLibraryFinalize(h) == CL_OK);
}
