// Contract of ckp/cp_file.h with both stores: every call, the resume semantics after a crash
// (simulated here by abandoning a CP_FILE without cp_close, in a child process) and every error.
#include <catch2/catch.hpp>

#include <ckp/cp_file.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "temp_dir.h"

namespace {

std::string contents(const std::string &p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

long offset_of(const fpos_t &p) { return long(p.__pos); }

// Runs `f` in a child that then dies without cp_close, as a crash would leave things.
template <class F> void crash_after(F &&f)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        f();
        _exit(0);  // no cp_close, no stdio flush of unchecked data beyond what f flushed
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

// Each test case runs against both stores.
void use_store(const TempDir &d, int which)
{
    if (which == 0)
        REQUIRE(cp_use_sqlite_store((d / "store.db").c_str()) == 0);
    else
        REQUIRE(cp_use_file_store((d / "store").c_str()) == 0);
}

}  // namespace

TEST_CASE("cp_open creates a new file; cp_write, cp_check, cp_tell, cp_close", "[cp_file]")
{
    for (int store = 0; store < 2; ++store) {
        TempDir d;
        use_store(d, store);
        CP_FILE *f = cp_open((d / "out").c_str(), "w");
        REQUIRE(f);
        CHECK(cp_write(f, "hello ", 1, 6) == 6);
        CHECK(cp_check(f) == 0);
        CHECK(contents(d / "out") == "hello ");  // durable at cp_check
        CHECK(offset_of(cp_tell(f)) == 6);
        CHECK(cp_write(f, "world", 5, 1) == 1);
        CHECK(offset_of(cp_tell(f)) == 11);
        CHECK(cp_close(f) == 0);
        CHECK(contents(d / "out") == "hello world");
    }
}

TEST_CASE("a written file resumes at its last checked position; later bytes are cut off", "[cp_file]")
{
    for (int store = 0; store < 2; ++store) {
        TempDir d;
        use_store(d, store);
        const std::string out = d / "out";
        crash_after([&] {
            CP_FILE *f = cp_open(out.c_str(), "w");
            if (!f || cp_write(f, "checked|", 1, 8) != 8 || cp_check(f) != 0) _exit(1);
            cp_write(f, "unchecked", 1, 9);
            fflush(nullptr);  // the unchecked bytes reach the file, then the "crash"
        });
        REQUIRE(contents(out) == "checked|unchecked");
        CP_FILE *f = cp_open(out.c_str(), "w");
        REQUIRE(f);
        CHECK(offset_of(cp_tell(f)) == 8);
        CHECK(contents(out) == "checked|");  // cut off at cp_open
        CHECK(cp_write(f, "more", 1, 4) == 4);
        CHECK(cp_close(f) == 0);
        CHECK(contents(out) == "checked|more");
        // Completed: the next cp_open "w" starts a new file.
        f = cp_open(out.c_str(), "w");
        REQUIRE(f);
        CHECK(offset_of(cp_tell(f)) == 0);
        CHECK(contents(out).empty());
        CHECK(cp_close(f) == 0);
    }
}

TEST_CASE("a read file resumes at its checked position", "[cp_file]")
{
    for (int store = 0; store < 2; ++store) {
        TempDir d;
        use_store(d, store);
        const std::string in = d / "in";
        std::ofstream(in) << "0123456789abcdef";
        crash_after([&] {
            CP_FILE *f = cp_open(in.c_str(), "r");
            char buf[8];
            if (!f || cp_read(f, buf, 4, 1) != 1 || cp_check(f) != 0) _exit(1);
            if (cp_read(f, buf, 1, 8) != 8) _exit(1);  // read on, never checked
        });
        CP_FILE *f = cp_open(in.c_str(), "r");
        REQUIRE(f);
        char buf[17] = {};
        CHECK(offset_of(cp_tell(f)) == 4);
        CHECK(cp_read(f, buf, 1, 16) == 12);  // to the end: a short count, as fread
        CHECK(std::string(buf) == "456789abcdef");
        CHECK(cp_close(f) == 0);
        f = cp_open(in.c_str(), "r");  // completed: from the start again
        REQUIRE(f);
        CHECK(offset_of(cp_tell(f)) == 0);
        CHECK(cp_close(f) == 0);
    }
}

TEST_CASE("append mode continues at the end, and after a crash at the checked end", "[cp_file]")
{
    for (int store = 0; store < 2; ++store) {
        TempDir d;
        use_store(d, store);
        const std::string log = d / "log";
        std::ofstream(log) << "old;";
        crash_after([&] {
            CP_FILE *f = cp_open(log.c_str(), "a");
            if (!f || cp_write(f, "one;", 1, 4) != 4 || cp_check(f) != 0) _exit(1);
            cp_write(f, "two;", 1, 4);
            fflush(nullptr);
        });
        CP_FILE *f = cp_open(log.c_str(), "a");
        REQUIRE(f);
        CHECK(contents(log) == "old;one;");
        CHECK(cp_write(f, "three;", 1, 6) == 6);
        CHECK(cp_close(f) == 0);
        CHECK(contents(log) == "old;one;three;");
    }
}

TEST_CASE("cp_seek moves to a position cp_tell gave", "[cp_file]")
{
    TempDir d;
    use_store(d, 0);
    std::ofstream(d / "in") << "abcdefgh";
    CP_FILE *f = cp_open((d / "in").c_str(), "r");
    REQUIRE(f);
    char three[3], c;
    REQUIRE(cp_read(f, three, 1, 3) == 3);
    fpos_t at = cp_tell(f);
    REQUIRE(cp_read(f, &c, 1, 1) == 1);
    REQUIRE(cp_seek(f, at) == 0);
    char again;
    REQUIRE(cp_read(f, &again, 1, 1) == 1);
    CHECK(again == c);
    fpos_t bad = at;
    bad.__pos = -5;
    CHECK(cp_seek(f, bad) == -1);
    CHECK(errno == EINVAL);
    CHECK(cp_close(f) == 0);
}

TEST_CASE("cp_* errors", "[cp_file]")
{
    TempDir d;
    use_store(d, 0);
    errno = 0;
    CHECK(cp_open(nullptr, "w") == nullptr);
    CHECK(errno == EINVAL);
    CHECK(cp_open((d / "x").c_str(), "rw+") == nullptr);
    CHECK(errno == EINVAL);
    CHECK(cp_open((d / "x").c_str(), nullptr) == nullptr);
    CHECK(errno == EINVAL);
    CHECK(cp_open((d / "missing").c_str(), "r") == nullptr);
    CHECK(errno == ENOENT);
    CHECK(cp_close(nullptr) == -1);
    CHECK(cp_check(nullptr) == -1);
    CHECK(cp_seek(nullptr, fpos_t{}) == -1);
    CHECK(offset_of(cp_tell(nullptr)) == -1);
    char buf[4];
    CHECK(cp_read(nullptr, buf, 1, 1) == 0);
    CHECK(cp_write(nullptr, buf, 1, 1) == 0);

    CP_FILE *w = cp_open((d / "w").c_str(), "w");
    REQUIRE(w);
    errno = 0;
    CHECK(cp_read(w, buf, 1, 1) == 0);  // not open for reading
    CHECK(errno == EINVAL);
    CHECK(cp_write(w, buf, -1, 1) == 0);
    CHECK(cp_write(w, nullptr, 1, 1) == 0);
    // The store cannot be changed while a file is open.
    CHECK(cp_use_file_store((d / "s").c_str()) == -1);
    CHECK(errno == EBUSY);
    CHECK(cp_use_sqlite_store("") == -1);
    CHECK(cp_use_file_store(nullptr) == -1);
    CHECK(cp_close(w) == 0);

    CP_FILE *r = cp_open((d / "w").c_str(), "r");
    REQUIRE(r);
    CHECK(cp_write(r, "x", 1, 1) == 0);  // not open for writing
    CHECK(errno == EINVAL);
    CHECK(cp_close(r) == 0);

    // A resumed file shorter than its checked position lost checked data: refused.
    crash_after([&] {
        CP_FILE *f = cp_open((d / "short").c_str(), "w");
        if (!f || cp_write(f, "0123456789", 1, 10) != 10 || cp_check(f) != 0) _exit(1);
    });
    REQUIRE(truncate((d / "short").c_str(), 3) == 0);
    CHECK(cp_open((d / "short").c_str(), "w") == nullptr);
    CHECK(errno == ESTALE);
    // And one whose file has vanished.
    REQUIRE(unlink((d / "short").c_str()) == 0);
    CHECK(cp_open((d / "short").c_str(), "r") == nullptr);
    CHECK(errno == ENOENT);
}

namespace {

// A store of the test's own, through the document's hooks, that records what it was asked.
std::string journal;
int fail_upd = 0;
struct Entry {
    fpos_t pos;
    bool set = false;
};
Entry committed, staged;

int t_ins(char *, void **ud)
{
    journal += "ins;";
    *ud = &committed;
    return 0;
}
int t_upd(char *, fpos_t p, void *ud)
{
    journal += ud == &committed ? "upd;" : "upd(bad userdata);";
    if (fail_upd) return -1;
    staged.pos = p;
    staged.set = true;
    return 0;
}
int t_qry(char *, fpos_t *p, void **ud)
{
    journal += "qry;";
    if (!committed.set) return CP_NOT_FOUND;
    *p = committed.pos;
    *ud = &committed;
    return 0;
}
int t_com()
{
    journal += "com;";
    if (staged.set) committed = staged;
    return 0;
}
int t_rbk()
{
    journal += "rbk;";
    staged = Entry{};
    return 0;
}
int t_ini()
{
    journal += "ini;";
    return 0;
}
int t_fin()
{
    journal += "fin;";
    return 0;
}
int t_qry_fails(char *, fpos_t *, void **) { return -1; }

}  // namespace

TEST_CASE("cp_hooks: a store of the program's own gets the document's calls", "[cp_file]")
{
    TempDir d;
    CHECK(cp_hooks(nullptr, t_upd, t_qry, t_com, t_rbk, t_ini, t_fin) == -1);
    CHECK(errno == EINVAL);
    REQUIRE(cp_hooks(t_ins, t_upd, t_qry, t_com, t_rbk, t_ini, t_fin) == 0);
    journal.clear();
    committed = staged = Entry{};
    CP_FILE *f = cp_open((d / "o").c_str(), "w");
    REQUIRE(f);
    CHECK(journal == "ini;qry;ins;upd;com;");
    // The store cannot be replaced while a file is open.
    CHECK(cp_hooks(t_ins, t_upd, t_qry, t_com, t_rbk, t_ini, t_fin) == -1);
    CHECK(errno == EBUSY);
    CHECK(cp_hooks_done(nullptr) == -1);
    CHECK(errno == EBUSY);
    journal.clear();
    cp_write(f, "abc", 1, 3);
    CHECK(cp_check(f) == 0);
    CHECK(journal == "upd;com;");
    CHECK(offset_of(committed.pos) == 3);
    // A failing store: cp_check fails with EIO and the store is rolled back.
    journal.clear();
    fail_upd = 1;
    cp_write(f, "def", 1, 3);
    CHECK(cp_check(f) == -1);
    CHECK(errno == EIO);
    CHECK(journal == "upd;rbk;");
    CHECK(offset_of(committed.pos) == 3);
    fail_upd = 0;
    // Without a completion hook, cp_close records the final position.
    journal.clear();
    CHECK(cp_close(f) == 0);
    CHECK(journal == "upd;com;fin;");
    CHECK(offset_of(committed.pos) == 6);

    // A store whose query fails: cp_open fails with EIO and leaves the store finished.
    REQUIRE(cp_hooks(t_ins, t_upd, t_qry_fails, t_com, t_rbk, t_ini, t_fin) == 0);
    journal.clear();
    CHECK(cp_open((d / "o").c_str(), "w") == nullptr);
    CHECK(errno == EIO);
    CHECK(journal == "ini;fin;");
    CHECK(cp_hooks_done(nullptr) == 0);
}

TEST_CASE("the file store reports a damaged entry instead of using it", "[cp_file]")
{
    TempDir d;
    use_store(d, 1);
    crash_after([&] {
        CP_FILE *f = cp_open((d / "o").c_str(), "w");
        if (!f || cp_write(f, "abc", 1, 3) != 3 || cp_check(f) != 0) _exit(1);
    });
    // Damage the one entry file.
    std::string entry;
    for (const auto &e : std::filesystem::directory_iterator(d / "store")) entry = e.path().string();
    REQUIRE(!entry.empty());
    {
        std::fstream io(entry, std::ios::in | std::ios::out | std::ios::binary);
        io.seekp(14);
        io.put('\x7f');
    }
    errno = 0;
    CHECK(cp_open((d / "o").c_str(), "w") == nullptr);
    CHECK(errno == EIO);
    CHECK(contents(d / "o") == "abc");  // nothing cut off on a store error
}
