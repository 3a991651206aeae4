// Recovery: each kind of undo, several epochs, interrupted and repeated recoveries, restore-time
// table changes, pruning.
#include <catch.hpp>

#include <cstdio>

#include "pct_writer.h"
#include "undo.h"

using namespace ckpt;
using namespace test;

namespace {

struct World {
    TempDir job, data;
    std::string p(const std::string &n) const { return data.path + "/" + n; }

    void initial()
    {
        std::string digits;
        for (int i = 0; i < 100; ++i) digits += "0123456789";
        put(p("state"), digits);
        put(p("log"), "line 1\nline 2\n");
        put(p("big"), std::string(10000, 'b'));
        put(p("old"), "old file\n");
        put(p("config"), "config v1\n");
        put(p("modef"), "mode\n");
        ::chmod(p("modef").c_str(), 0644);
        ::mkdir(p("olddir").c_str(), 0750);
        ::link(p("old").c_str(), p("old-hardlink").c_str());
    }

    // Every kind of change, each preceded by its record (write-ahead), as the runtime does.
    void change_everything(PctWriter &w)
    {
        // Overwrite in place.
        w.meta(p("state"));
        w.data(p("state"), 96, 32);
        int fd = ::open(p("state").c_str(), O_WRONLY);
        (void)!::pwrite(fd, "XXXXXXXXXXXXXXXXXXXX", 20, 100);
        ::close(fd);
        // Append.
        w.meta(p("log"));
        fd = ::open(p("log").c_str(), O_WRONLY | O_APPEND);
        (void)!::write(fd, "line 3\n", 7);
        ::close(fd);
        // Truncate.
        w.meta(p("big"));
        w.data(p("big"), 4096, 10000 - 4096);
        (void)!::truncate(p("big").c_str(), 4096);
        // New file.
        w.create(p("new"));
        put(p("new"), "brand new\n");
        // Unlink (kept as a hard link).
        w.removed(p("old"));
        ::unlink(p("old").c_str());
        // Write a temp file, rename it over the config.
        w.create(p("config.tmp"));
        put(p("config.tmp"), "config v2, longer\n");
        w.removed(p("config"));
        w.rename(p("config.tmp"), p("config"));
        ::rename(p("config.tmp").c_str(), p("config").c_str());
        // Mode.
        w.meta(p("modef"));
        ::chmod(p("modef").c_str(), 0600);
        // Directories.
        w.create(p("newdir"), true);
        ::mkdir(p("newdir").c_str(), 0700);
        w.create(p("newdir/inner"));
        put(p("newdir/inner"), "x");
        w.rmdir(p("olddir"));
        ::rmdir(p("olddir").c_str());
        // Symbolic link.
        w.create(p("sym"));
        (void)!::symlink("state", p("sym").c_str());
    }
};

}  // namespace

TEST_CASE("undo of every kind of change restores the state at the checkpoint")
{
    World w;
    w.initial();
    const std::string before = tree(w.data.path);
    {
        PctWriter log(w.job.path, 4);
        w.change_everything(log);
    }
    REQUIRE(tree(w.data.path) != before);
    persist::UndoResult r = persist::undo_to(w.job.path, 4, {});
    CHECK(r.ok);
    CHECK(r.failed == 0);
    CHECK(r.epochs == 1);
    CHECK(tree(w.data.path) == before);
    // The hard link came back as the same file.
    struct stat a, b;
    ::stat(w.p("old").c_str(), &a);
    ::stat(w.p("old-hardlink").c_str(), &b);
    CHECK(a.st_ino == b.st_ino);
    // The epoch's log and undo data are gone.
    CHECK(persist::list_epochs(w.job.path).empty());
}

TEST_CASE("undo restores old times of changed files")
{
    World w;
    w.initial();
    struct timespec old[2] = {{1000000, 5}, {2000000, 7}};
    ::utimensat(AT_FDCWD, w.p("state").c_str(), old, 0);
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("state"));
        put(w.p("state"), "rewritten");
    }
    persist::undo_to(w.job.path, 1, {});
    struct stat st;
    ::stat(w.p("state").c_str(), &st);
    CHECK(st.st_mtim.tv_sec == 2000000);
    CHECK(st.st_mtim.tv_nsec == 7);
}

TEST_CASE("a recovery stopped between any two records, run again, ends in the same state")
{
    World ref;
    ref.initial();
    const std::string before = tree(ref.data.path);
    size_t n_records = 0;
    {
        PctWriter log(ref.job.path, 2);
        ref.change_everything(log);
    }
    n_records = persist::read_pct(persist::log_path(ref.job.path, 2)).records.size();
    REQUIRE(n_records >= 15);
    for (uint64_t stop = 0; stop <= n_records; ++stop) {
        World w;
        w.initial();
        {
            PctWriter log(w.job.path, 2);
            w.change_everything(log);
        }
        persist::UndoOptions o;
        o.stop_after = stop;
        persist::UndoResult first = persist::undo_to(w.job.path, 2, o);
        if (stop < n_records) CHECK(first.stopped);
        persist::UndoResult second = persist::undo_to(w.job.path, 2, {});
        INFO("stopped after " << stop << " records");
        CHECK(second.ok);
        CHECK(second.failed == 0);
        CHECK(tree(w.data.path) == before);
        // And once more: nothing left to do, nothing changes.
        persist::UndoResult third = persist::undo_to(w.job.path, 2, {});
        CHECK(third.undone == 0);
        CHECK(tree(w.data.path) == before);
    }
}

TEST_CASE("a recovery stopped between the rename and the removal records of a rename-over is completed")
{
    // Undo of a rename-over stopped between its two records: the rename back was done, the kept
    // config was not yet moved back. The progress file says the RENAME record is done. (Stops
    // inside a record: test_undo_crash.cpp.)
    World w;
    w.initial();
    const std::string before = tree(w.data.path);
    {
        PctWriter log(w.job.path, 1);
        log.create(w.p("config.tmp"));
        put(w.p("config.tmp"), "new config\n");
        log.removed(w.p("config"));
        log.rename(w.p("config.tmp"), w.p("config"));
        ::rename(w.p("config.tmp").c_str(), w.p("config").c_str());
    }
    persist::UndoOptions o;
    o.stop_after = 1;
    persist::undo_to(w.job.path, 1, o);
    CHECK(exists(w.p("config.tmp")));
    CHECK(!exists(w.p("config")));
    persist::UndoResult r = persist::undo_to(w.job.path, 1, {});
    CHECK(r.failed == 0);
    CHECK(tree(w.data.path) == before);
}

TEST_CASE("rolling back to an older version undoes every later epoch, newest first")
{
    World w;
    w.initial();
    const std::string at_v1 = tree(w.data.path);
    {
        PctWriter e1(w.job.path, 1);
        e1.meta(w.p("log"));
        put(w.p("log"), "line 1\nline 2\nepoch 1\n");
        e1.create(w.p("f"));
        put(w.p("f"), "made in epoch 1\n");
    }
    const std::string at_v2 = tree(w.data.path);
    {
        PctWriter e2(w.job.path, 2);
        e2.meta(w.p("log"));
        e2.data(w.p("log"), 0, 22);
        put(w.p("log"), "rewritten in epoch 2\n");
        e2.meta(w.p("f"));
        e2.data(w.p("f"), 0, 16);
        put(w.p("f"), "changed in epoch 2\n");
    }
    SECTION("to version 2")
    {
        persist::UndoResult r = persist::undo_to(w.job.path, 2, {});
        CHECK(r.epochs == 1);
        CHECK(tree(w.data.path) == at_v2);
        CHECK(persist::list_epochs(w.job.path).size() == 1);
    }
    SECTION("to version 1 (version 2 unusable)")
    {
        persist::UndoResult r = persist::undo_to(w.job.path, 1, {});
        CHECK(r.epochs == 2);
        CHECK(tree(w.data.path) == at_v1);
    }
}

TEST_CASE("restore-time changes and exclusions skip records")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 1);
        w.change_everything(log);
    }
    const std::string log_now = slurp(w.p("log")), config_now = slurp(w.p("config")), state_now = slurp(w.p("state"));
    persist::UndoOptions o;
    o.no_undo = {w.p("log"), w.p("config")};
    o.exclude = {w.data.path + "/st*"};
    persist::UndoResult r = persist::undo_to(w.job.path, 1, o);
    CHECK(r.ok);
    CHECK(r.skipped >= 5);
    CHECK(slurp(w.p("log")) == log_now);        // --no-undo: as it is now
    CHECK(slurp(w.p("config")) == config_now);  // both sides of the rename-over kept
    CHECK(slurp(w.p("state")) == state_now);    // excluded
    CHECK(!exists(w.p("new")));                 // everything else rolled back
    CHECK(exists(w.p("old")));
}

TEST_CASE("exclusions recorded by the program during an epoch apply to the whole epoch")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("log"));
        put(w.p("log"), "changed\n");
        log.add(pct::Kind::Exclude, w.p("log"));
    }
    persist::undo_to(w.job.path, 1, {});
    CHECK(slurp(w.p("log")) == "changed\n");
}

TEST_CASE("an unprotected change is reported, not silently ignored")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 1);
        log.add(pct::Kind::Unprotected, w.p("big"));
    }
    // Without accepting the loss: the recovery stops before it changes anything.
    const std::string before = tree(w.data.path);
    persist::UndoResult r = persist::undo_to(w.job.path, 1, {});
    CHECK(!r.ok);
    CHECK(r.error.find(w.p("big")) != std::string::npos);
    CHECK(r.undone == 0);
    CHECK(tree(w.data.path) == before);
    // --on-undo-failure=proceed: goes on, and says what it could not roll back.
    persist::UndoOptions accept;
    accept.accept_loss = true;
    r = persist::undo_to(w.job.path, 1, accept);
    CHECK(r.ok);
    CHECK(r.lost.size() == 1);
    CHECK(r.failed == 1);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("NOT rolled back") != std::string::npos);
}

TEST_CASE("leftovers of a recovery that died after deleting the log are cleaned up")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 3);
        log.removed(w.p("old"));
        ::unlink(w.p("old").c_str());
    }
    ::unlink(persist::log_path(w.job.path, 3).c_str());  // the log went, the undo dir stayed
    put(persist::progress_path(w.job.path, 3), "x");
    persist::UndoResult r = persist::undo_to(w.job.path, 3, {});
    CHECK(r.ok);
    CHECK(persist::list_epochs(w.job.path).empty());
}

TEST_CASE("pruning deletes the undo data only older versions needed")
{
    World w;
    for (uint64_t e : {0, 1, 2, 3}) {
        PctWriter log(w.job.path, e);
        log.create(w.p("x" + std::to_string(e)));
    }
    ::mkdir(persist::undo_dir_path(w.job.path, 1).c_str(), 0700);
    persist::prune_epochs(w.job.path, 2);
    auto left = persist::list_epochs(w.job.path);
    REQUIRE(left.size() == 2);
    CHECK(left[0].epoch == 2);
    CHECK(left[1].epoch == 3);
}

// Issue 8, defect 5: undo data that cannot bring the files back is found before anything is
// changed; the recovery then stops (or, accepting the loss, goes on and says so).
namespace {

void refused_unchanged(World &w, const std::string &expected)
{
    const std::string before = tree(w.data.path);
    const std::vector<std::string> problems = persist::check_undo(w.job.path, 1);
    REQUIRE(!problems.empty());
    bool named = false;
    for (const auto &p : problems) named = named || p.find(expected) != std::string::npos;
    CHECK(named);
    persist::UndoResult r = persist::undo_to(w.job.path, 1, {});
    CHECK(!r.ok);
    CHECK(r.error.find(expected) != std::string::npos);
    CHECK(r.undone == 0);
    CHECK(tree(w.data.path) == before);
}

}  // namespace

TEST_CASE("a damaged kept copy is found by its checksum before anything is undone")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("state"));
        log.data(w.p("state"), 0, 10);
        int fd = ::open(w.p("state").c_str(), O_WRONLY);
        (void)!::pwrite(fd, "XXXXXXXXXX", 10, 0);
        ::close(fd);
        log.removed_checked(w.p("config"));
        ::unlink(w.p("config").c_str());
    }
    CHECK(persist::check_undo(w.job.path, 1).empty());
    int fd = ::open((persist::undo_dir_path(w.job.path, 1) + "/1").c_str(), O_WRONLY);
    (void)!::pwrite(fd, "K", 1, 0);
    ::close(fd);
    refused_unchanged(w, "is damaged");
    CHECK(!persist::check_epoch(w.job.path, 1).empty());
    // Accepting the loss: the rest is undone, the damaged copy is not used.
    persist::UndoOptions accept;
    accept.accept_loss = true;
    persist::UndoResult r = persist::undo_to(w.job.path, 1, accept);
    CHECK(r.ok);
    CHECK(r.lost.size() == 1);
    CHECK(slurp(w.p("state")).substr(0, 10) == "0123456789");
    CHECK(!exists(w.p("config")));
}

TEST_CASE("a sealed log cut short is found: the next log names it as its predecessor")
{
    World w;
    w.initial();
    uint64_t nonce = 0, cut = 0;
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("state"));
        cut = uint64_t(::lseek(::open(log.path().c_str(), O_RDONLY), 0, SEEK_END));
        log.data(w.p("state"), 0, 10);
        log.seal();
        nonce = log.nonce();
    }
    { PctWriter next(w.job.path, 2, nonce); }
    CHECK(persist::check_undo(w.job.path, 1).empty());
    CHECK(persist::read_pct(persist::log_path(w.job.path, 1)).sealed());
    // Cut exactly at a record boundary: no torn tail, only the missing seal tells.
    REQUIRE(::truncate(persist::log_path(w.job.path, 1).c_str(), off_t(cut)) == 0);
    refused_unchanged(w, "cut short");
}

TEST_CASE("an unsealed newest log may end in a torn append, but not in a whole damaged record")
{
    World w;
    w.initial();
    uint64_t last = 0;
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("state"));
        last = log.add(pct::Kind::Data, w.p("state"), "", "0123456789", 0);
    }
    const std::string lp = persist::log_path(w.job.path, 1);
    const std::string whole = slurp(lp);
    put_own(lp, whole.substr(0, whole.size() - 5));  // torn: fewer bytes than the record
    CHECK(persist::check_undo(w.job.path, 1).empty());
    std::string bad = whole;
    bad[last + sizeof(pct::RecordHeader) + 2] ^= 0x10;  // a byte of its path: the record is all there
    put_own(lp, bad);
    persist::PctLog log = persist::read_pct(lp);
    CHECK(log.bad_records.size() == 1);
    CHECK(!log.torn_tail);
    refused_unchanged(w, "fails its checksum");
}

TEST_CASE("logs and progress files not yours with mode 0600 are never used")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("log"));
        put(w.p("log"), "changed\n");
    }
    ::chmod(persist::log_path(w.job.path, 1).c_str(), 0644);
    CHECK(persist::read_pct(persist::log_path(w.job.path, 1)).untrusted);
    refused_unchanged(w, "untrusted file");
    CHECK(exists(persist::log_path(w.job.path, 1)));  // not ours to delete either
}

TEST_CASE("a sealed epoch undoes cleanly: the seal is not a change")
{
    World w;
    w.initial();
    {
        PctWriter log(w.job.path, 1);
        log.meta(w.p("log"));
        log.data(w.p("log"), 0, 14);
        put(w.p("log"), "changed\n");
        log.seal();
    }
    persist::UndoResult r = persist::undo_to(w.job.path, 1, {});
    CHECK(r.ok);
    CHECK(r.failed == 0);
    CHECK(r.warnings.empty());
    CHECK(slurp(w.p("log")) == "line 1\nline 2\n");
}
