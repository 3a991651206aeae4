// Launcher helpers: durations, signals, job names, the checkpoint root, job directories.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <optional>

#include "duration.h"
#include "job_dir.h"
#include "job_layout.h"
#include "signal_choice.h"
#include "test_util.h"

using namespace ckpt;
using namespace std::chrono_literals;

namespace {

// Sets an environment variable for the lifetime of the object, then puts it back.
class EnvOverride {
public:
    EnvOverride(const char *name, const char *value) : name_(name)
    {
        if (const char *old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value, 1); else ::unsetenv(name);
    }
    ~EnvOverride()
    {
        if (old_) ::setenv(name_, old_->c_str(), 1); else ::unsetenv(name_);
    }

private:
    const char *name_;
    std::optional<std::string> old_;
};

mode_t mode_of(const std::string &path)
{
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("parse_duration accepts the documented forms", "[launcher][duration]")
{
    CHECK(parse_duration("500ms") == std::optional<std::chrono::nanoseconds>(500ms));
    CHECK(parse_duration("2s") == std::optional<std::chrono::nanoseconds>(2s));
    CHECK(parse_duration("30m") == std::optional<std::chrono::nanoseconds>(30min));
    CHECK(parse_duration("5min") == std::optional<std::chrono::nanoseconds>(5min));
    CHECK(parse_duration("1h") == std::optional<std::chrono::nanoseconds>(1h));
    CHECK(parse_duration("250us") == std::optional<std::chrono::nanoseconds>(250us));
    CHECK(parse_duration("1.5") == std::optional<std::chrono::nanoseconds>(1500ms));
    CHECK(parse_duration("0.25s") == std::optional<std::chrono::nanoseconds>(250ms));
    CHECK(parse_duration("10") == std::optional<std::chrono::nanoseconds>(10s));
    CHECK(parse_duration("0") == std::optional<std::chrono::nanoseconds>(0ns));
    CHECK(parse_duration("1.5h") == std::optional<std::chrono::nanoseconds>(90min));
}

TEST_CASE("parse_duration rejects everything else", "[launcher][duration]")
{
    for (const char *bad : {"", "ms", "s", "abc", "-1", "-5s", "5x", "5 s", "5sec", "5S", "1h30m", "inf", "nan",
                            "1e30", "1e10h", "5ms5"}) {
        INFO("'" << bad << "'");
        CHECK_FALSE(parse_duration(bad).has_value());
    }
}

TEST_CASE("format_duration picks the largest exact unit", "[launcher][duration]")
{
    CHECK(format_duration(2h) == "2h");
    CHECK(format_duration(30min) == "30m");
    CHECK(format_duration(90s) == "90s");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(0ns) == "0s");
    CHECK(format_duration(1234ns) == "1234ns");
    for (const char *text : {"500ms", "2s", "30m", "1h"}) CHECK(format_duration(*parse_duration(text)) == text);
}

TEST_CASE("parse_signal by name, abbreviation, number and real-time offset", "[launcher][signal]")
{
    CHECK(parse_signal("USR2") == SIGUSR2);
    CHECK(parse_signal("SIGUSR2") == SIGUSR2);
    CHECK(parse_signal("12") == SIGUSR2);
    CHECK(parse_signal("SIGTERM") == SIGTERM);
    CHECK(parse_signal("HUP") == SIGHUP);
    CHECK(parse_signal("RTMAX-1") == SIGRTMAX - 1);
    CHECK(parse_signal("SIGRTMAX-1") == SIGRTMAX - 1);
    CHECK(parse_signal("SIGRTMAX") == SIGRTMAX);
    CHECK(parse_signal("RTMIN") == SIGRTMIN);
    CHECK(parse_signal("SIGRTMIN+2") == SIGRTMIN + 2);
    CHECK(parse_signal("RTMIN+0") == SIGRTMIN);
    CHECK(parse_signal("64") == 64);
    CHECK(parse_signal("1") == 1);
}

TEST_CASE("checkpoint signals: SIGUSR2 and real-time signals only", "[launcher][signal]")
{
    CHECK(acceptable_checkpoint_signal(SIGUSR2));
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) CHECK(acceptable_checkpoint_signal(s));
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT, SIGINT, SIGQUIT, SIGTSTP, SIGTTIN,
                  SIGTTOU, SIGHUP, SIGCONT, SIGWINCH, SIGPIPE, SIGALRM, SIGCHLD, SIGTERM, SIGKILL, SIGSTOP,
                  SIGUSR1, SIGXCPU, SIGXFSZ, SIGIO, SIGURG, SIGPROF, SIGVTALRM, 32, 33})
        CHECK_FALSE(acceptable_checkpoint_signal(s));
}

TEST_CASE("parse_signal rejects what is not a signal", "[launcher][signal]")
{
    for (const char *bad : {"", "SIG", "FOO", "SIGFOO", "usr2", "0", "-1", "65", "999", "12x", "USR2 ", "RTMIN+",
                            "RTMIN-1", "RTMAX+1", "SIGRTMIN+100", "RTMIN2", "RTMAX--1", "SIGSIGUSR2"}) {
        INFO("'" << bad << "'");
        CHECK_FALSE(parse_signal(bad).has_value());
    }
}

TEST_CASE("signal_name and parse_signal agree", "[launcher][signal]")
{
    CHECK(signal_name(SIGUSR2) == "SIGUSR2");
    CHECK(signal_name(SIGKILL) == "SIGKILL");
    CHECK(signal_name(SIGRTMAX) == "SIGRTMAX");
    CHECK(signal_name(SIGRTMAX - 1) == "SIGRTMAX-1");
    for (int s = 1; s <= SIGRTMAX; ++s) {
        INFO(s << " " << signal_name(s));
        CHECK(parse_signal(signal_name(s)) == s);
    }
}

TEST_CASE("derive_job_name", "[launcher][jobname]")
{
    const std::vector<std::string> argv{"/usr/bin/python3", "train.py", "--epochs", "10"};
    const std::string name = derive_job_name(argv, "/home/u/proj");
    SECTION("stable")
    {
        CHECK(derive_job_name(argv, "/home/u/proj") == name);
        CHECK(name.rfind("python3-", 0) == 0);
        REQUIRE(name.size() == std::string("python3-").size() + 8);
        for (char c : name.substr(8)) CHECK(std::isxdigit(static_cast<unsigned char>(c)));
    }
    SECTION("differs by working directory and arguments")
    {
        CHECK(derive_job_name(argv, "/home/u/other") != name);
        CHECK(derive_job_name({"/usr/bin/python3", "train.py", "--epochs", "11"}, "/home/u/proj") != name);
        CHECK(derive_job_name({"/usr/bin/python3", "train.py", "--epochs"}, "/home/u/proj") != name);
        // Argument boundaries count: "ab" "c" is not "a" "bc".
        CHECK(derive_job_name({"x", "ab", "c"}, "/") != derive_job_name({"x", "a", "bc"}, "/"));
        // Neither does the directory run into the arguments.
        CHECK(derive_job_name({"x", "a"}, "/d") != derive_job_name({"x", "da"}, "/"));
    }
    SECTION("sanitised to a safe directory name")
    {
        const std::string odd = derive_job_name({"./my prog$(rm -rf)*?.sh", "a"}, "/");
        CHECK(odd.find('/') == std::string::npos);
        CHECK(odd.rfind("my_prog__rm_-rf___.sh-", 0) == 0);
        for (char c : odd)
            CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'));
        CHECK(derive_job_name({}, "/").rfind("job-", 0) == 0);
        CHECK(derive_job_name({"counter"}, "/").rfind("counter-", 0) == 0);
    }
}

TEST_CASE("resolve_root: option, then CKPT_DIR, XDG_STATE_HOME, HOME", "[launcher][root]")
{
    EnvOverride home("HOME", "/home/tester");
    SECTION("option wins")
    {
        EnvOverride dir("CKPT_DIR", "/env/dir");
        CHECK(resolve_root("/opt/ck") == "/opt/ck");
    }
    SECTION("CKPT_DIR")
    {
        EnvOverride dir("CKPT_DIR", "/env/dir");
        EnvOverride xdg("XDG_STATE_HOME", "/xdg");
        CHECK(resolve_root("") == "/env/dir");
    }
    SECTION("XDG_STATE_HOME")
    {
        EnvOverride dir("CKPT_DIR", "");
        EnvOverride xdg("XDG_STATE_HOME", "/xdg");
        CHECK(resolve_root("") == "/xdg/ckpt");
    }
    SECTION("HOME")
    {
        EnvOverride dir("CKPT_DIR", nullptr);
        EnvOverride xdg("XDG_STATE_HOME", nullptr);
        CHECK(resolve_root("") == "/home/tester/.local/state/ckpt");
    }
}

TEST_CASE("JobDir: create, versions, prune, remove", "[launcher][jobdir]")
{
    test::TempDir tmp;
    const std::string root = tmp / "state/ckpt";  // parents are created too
    JobDir job(root, "counter-12345678");
    CHECK_FALSE(job.exists());
    CHECK(job.versions().empty());
    CHECK(job.path() == root + "/counter-12345678");

    REQUIRE_FALSE(job.create());
    CHECK(job.exists());
    CHECK(mode_of(root) == 0700);
    CHECK(mode_of(job.path()) == 0700);
    CHECK(test::exists(tmp / "state"));
    CHECK_FALSE(test::exists(job.path() + "/.probe"));
    REQUIRE_FALSE(job.create());  // twice is fine

    // A job directory that was made with looser permissions is tightened.
    REQUIRE(::chmod(job.path().c_str(), 0755) == 0);
    REQUIRE_FALSE(job.create());
    CHECK(mode_of(job.path()) == 0700);

    for (uint64_t v : {10, 2, 1, 7}) test::write_file(job.image_path(v), std::string(v, 'x'));
    for (const char *other : {".ckpt-000011.img.tmp", "ckpt-000000.img", "ckpt-abc.img", "ckpt-000003.img.bak",
                              "status", "lock", "notes.txt"})
        test::write_file(job.path() + "/" + other, "");

    auto versions = job.versions();
    REQUIRE(versions.size() == 4);
    CHECK(versions[0].version == 1);
    CHECK(versions[1].version == 2);
    CHECK(versions[2].version == 7);
    CHECK(versions[3].version == 10);
    CHECK(versions[3].path == job.image_path(10));
    CHECK(versions[3].path == job.path() + "/ckpt-000010.img");
    CHECK(versions[3].size == 10);
    CHECK(versions[3].mtime_ns > 0);

    job.remove_stale_temps();
    CHECK_FALSE(test::exists(job.path() + "/.ckpt-000011.img.tmp"));
    CHECK(test::exists(job.path() + "/notes.txt"));

    job.prune(0);  // keeps everything
    CHECK(job.versions().size() == 4);
    job.prune(10);
    CHECK(job.versions().size() == 4);
    job.prune(2);
    versions = job.versions();
    REQUIRE(versions.size() == 2);
    CHECK(versions[0].version == 7);
    CHECK(versions[1].version == 10);
    job.prune(1);
    REQUIRE(job.versions().size() == 1);
    CHECK(job.versions()[0].version == 10);

    CHECK(list_jobs(root) == std::vector<std::string>{"counter-12345678"});
    // Names ckpt does not write stay, and so does the directory (with its marker).
    CHECK(job.remove_all() == std::errc::directory_not_empty);
    CHECK(test::exists(job.path() + "/notes.txt"));
    CHECK(test::exists(job.path() + "/ckpt-abc.img"));
    CHECK(test::exists(job.path() + "/ckpt-000003.img.bak"));
    CHECK(test::exists(job.path() + "/.ckpt-job"));
    CHECK_FALSE(test::exists(job.path() + "/status"));
    CHECK_FALSE(test::exists(job.path() + "/lock"));
    CHECK(job.versions().empty());
    for (const char *other : {"notes.txt", "ckpt-abc.img", "ckpt-000003.img.bak"})
        REQUIRE(::unlink((job.path() + "/" + other).c_str()) == 0);
    REQUIRE_FALSE(job.remove_all());
    CHECK_FALSE(job.exists());
    CHECK(list_jobs(root).empty());
}

TEST_CASE("JobDir: a directory ckpt did not make is refused, not adopted", "[launcher][jobdir][marker]")
{
    test::TempDir tmp;
    REQUIRE(::mkdir((tmp / "photos").c_str(), 0755) == 0);
    test::write_file(tmp / "photos/cat.jpg", "meow");
    JobDir job(tmp.path(), "photos");
    auto e = job.create();
    CHECK(e.kind == DirError::Kind::NotJobDir);
    CHECK(e.message.find(tmp / "photos") != std::string::npos);
    CHECK(e.exit_code() == 86);
    CHECK(mode_of(tmp / "photos") == 0755);
    CHECK_FALSE(test::exists(tmp / "photos/.ckpt-job"));
    JobDir again(tmp.path(), "photos");
    CHECK(again.open(true).kind == DirError::Kind::NotJobDir);

    // An empty directory is not adopted either: nothing in it says it is ckpt's.
    REQUIRE(::mkdir((tmp / "empty").c_str(), 0700) == 0);
    CHECK(JobDir(tmp.path(), "empty").create().kind == DirError::Kind::NotJobDir);

    // One of an older ckpt (only ckpt's names, a committed image) is adopted.
    REQUIRE(::mkdir((tmp / "old").c_str(), 0700) == 0);
    test::write_file(tmp / "old/ckpt-000001.img", "x");
    test::write_file(tmp / "old/lock", "");
    REQUIRE(::mkdir((tmp / "old/undo-000001").c_str(), 0700) == 0);
    test::write_file(tmp / "old/undo-000001/3", "kept");
    JobDir old(tmp.path(), "old");
    REQUIRE_FALSE(old.create());
    CHECK(test::exists(tmp / "old/.ckpt-job"));
    REQUIRE_FALSE(old.remove_all());
    CHECK_FALSE(test::exists(tmp / "old"));
}

TEST_CASE("JobDir: links are never followed, foreign and open directories refused", "[launcher][jobdir][links]")
{
    test::TempDir tmp;
    REQUIRE(::mkdir((tmp / "victim").c_str(), 0755) == 0);
    test::write_file(tmp / "victim/file", "precious");
    REQUIRE(::mkdir((tmp / "root").c_str(), 0700) == 0);
    REQUIRE(::symlink((tmp / "victim").c_str(), (tmp / "root/job").c_str()) == 0);
    JobDir job(tmp / "root", "job");
    CHECK(job.create().kind == DirError::Kind::Unsafe);
    CHECK(mode_of(tmp / "victim") == 0755);

    // Inside a job directory: links named like ckpt's files go, their targets stay.
    JobDir real(tmp / "root", "real");
    REQUIRE_FALSE(real.create());
    for (const char *n : {"lock", "status", ".status.tmp", "ckpt-000001.img", "pct-000001.log", "undo-000001"})
        REQUIRE(::symlink((tmp / "victim/file").c_str(), (real.path() + "/" + n).c_str()) == 0);
    CHECK_FALSE(real.try_lock());
    CHECK(real.versions().empty());
    CHECK_FALSE(real.read_status());
    JobStatus s;
    s.state = "running";
    real.write_status(s);
    CHECK(test::read_file(tmp / "victim/file") == "precious");
    REQUIRE_FALSE(real.remove_all());
    CHECK_FALSE(test::exists(real.path()));
    CHECK(test::read_file(tmp / "victim/file") == "precious");
    CHECK(mode_of(tmp / "victim/file") == 0644);

    // A root writable by others (no sticky bit) is refused.
    REQUIRE(::mkdir((tmp / "open").c_str(), 0700) == 0);
    REQUIRE(::chmod((tmp / "open").c_str(), 0770) == 0);
    auto e = JobDir(tmp / "open", "job").create();
    CHECK(e.kind == DirError::Kind::Unsafe);
    CHECK(e.message.find("0770") != std::string::npos);
    REQUIRE(::chmod((tmp / "open").c_str(), 01777) == 0);
    CHECK_FALSE(JobDir(tmp / "open", "job").create());
}

TEST_CASE("job layout: the names ckpt writes", "[launcher][jobdir][layout]")
{
    using layout::Entry;
    CHECK(layout::classify("ckpt-000001.img") == Entry::Image);
    CHECK(layout::classify("ckpt-1234567.img") == Entry::Image);
    CHECK(layout::classify(".ckpt-000002.img.tmp") == Entry::ImageTemp);
    CHECK(layout::classify("pct-000002.log") == Entry::PctLog);
    CHECK(layout::classify("pct-000002.progress") == Entry::PctProgress);
    CHECK(layout::classify("undo-000002") == Entry::UndoDir);
    CHECK(layout::classify("grow-000002.map") == Entry::GrowthMap);
    CHECK(layout::classify(".protected-42") == Entry::Protected);
    CHECK(layout::classify("lock") == Entry::Lock);
    CHECK(layout::classify("status") == Entry::Status);
    CHECK(layout::classify(".status.tmp") == Entry::StatusTemp);
    CHECK(layout::classify(".ckpt-job") == Entry::Marker);
    for (const char *n : {"ckpt-.img", "ckpt-abc.img", "ckpt-000001.img.bak", "xckpt-000001.img", "pct-1.log.old",
                          "undo-", "undo-1x", "locks", "status~", ".probe2", "notes.txt", ".ckpt-new-12"})
        CHECK(layout::classify(n) == Entry::Foreign);
    CHECK(layout::is_undo_entry("17"));
    CHECK_FALSE(layout::is_undo_entry("17.tmp"));
    CHECK_FALSE(layout::is_undo_entry(""));
}

TEST_CASE("JobDir: create fails where no directory can be made", "[launcher][jobdir]")
{
    test::TempDir tmp;
    test::write_file(tmp / "file", "x");
    JobDir job(tmp / "file", "job");
    CHECK(job.create());
}

TEST_CASE("list_jobs lists job directories only", "[launcher][jobdir]")
{
    test::TempDir tmp;
    CHECK(list_jobs(tmp / "missing").empty());
    for (const char *name : {"b-job", "a-job", ".hidden"}) REQUIRE_FALSE(JobDir(tmp.path(), name).create());
    test::write_file(tmp / "stray-file", "");
    CHECK(list_jobs(tmp.path()) == std::vector<std::string>{"a-job", "b-job"});
}

TEST_CASE("JobDir: status file round trip", "[launcher][jobdir][status]")
{
    test::TempDir tmp;
    JobDir job(tmp.path(), "job");
    REQUIRE_FALSE(job.create());
    CHECK_FALSE(job.read_status().has_value());

    JobStatus s;
    s.state = "running";
    s.launcher_pid = 1234;
    s.program_pid = 1235;
    s.signal = 63;
    s.program = "./counter 30 100000 --name=x";  // '=' inside a value
    s.seq = 18446744073709551615ull;
    s.checkpoints = 17;
    s.failures = 2;
    s.last_version = 42;
    s.last_checkpoint_ns = 1700000000123456789;
    s.last_pause_ns = 2772179;
    s.last_image_bytes = 139264;
    s.last_error = "the process has child processes: child pid 77 (Operation not supported)";
    s.restores = 3;
    s.restored_version = 41;
    s.last_restore_ns = 5000000;
    s.restarts = 4;
    s.restart_causes = "killed by SIGKILL;exit 1";
    job.write_status(s);
    CHECK(mode_of(job.path() + "/status") == 0600);
    CHECK_FALSE(test::exists(job.path() + "/.status.tmp"));

    auto r = job.read_status();
    REQUIRE(r.has_value());
    CHECK(r->state == s.state);
    CHECK(r->launcher_pid == s.launcher_pid);
    CHECK(r->program_pid == s.program_pid);
    CHECK(r->signal == s.signal);
    CHECK(r->program == s.program);
    CHECK(r->seq == s.seq);
    CHECK(r->checkpoints == s.checkpoints);
    CHECK(r->failures == s.failures);
    CHECK(r->last_version == s.last_version);
    CHECK(r->last_checkpoint_ns == s.last_checkpoint_ns);
    CHECK(r->last_pause_ns == s.last_pause_ns);
    CHECK(r->last_image_bytes == s.last_image_bytes);
    CHECK(r->last_error == s.last_error);
    CHECK(r->restores == s.restores);
    CHECK(r->restored_version == s.restored_version);
    CHECK(r->last_restore_ns == s.last_restore_ns);
    CHECK(r->restarts == s.restarts);
    CHECK(r->restart_causes == s.restart_causes);

    // Overwritten as a whole: an empty error stays empty.
    s.last_error.clear();
    s.seq = 1;
    job.write_status(s);
    r = job.read_status();
    REQUIRE(r.has_value());
    CHECK(r->last_error.empty());
    CHECK(r->seq == 1);
}

TEST_CASE("JobDir: status values with newlines and backslashes", "[launcher][jobdir][status]")
{
    // A command line may hold anything: `python3 -c` with a multi-line script is common.
    test::TempDir tmp;
    JobDir job(tmp.path(), "job");
    REQUIRE_FALSE(job.create());
    JobStatus s;
    s.state = "running";
    s.seq = 5;
    s.program = "python3 -c import sys\nstate=crashed\nseq=99\nprint('a\\\\nb') \\";
    s.last_error = "line one\nline two\r\n";
    s.restart_causes = "C:\\path\\new";
    job.write_status(s);
    auto r = job.read_status();
    REQUIRE(r.has_value());
    CHECK(r->state == "running");
    CHECK(r->seq == 5);
    CHECK(r->program == s.program);
    CHECK(r->last_error == s.last_error);
    CHECK(r->restart_causes == s.restart_causes);
}

TEST_CASE("JobDir: the lock is exclusive between launchers", "[launcher][jobdir][lock]")
{
    test::TempDir tmp;
    auto a = std::make_unique<JobDir>(tmp.path(), "job");
    REQUIRE_FALSE(a->create());
    JobDir b(tmp.path(), "job");
    CHECK_FALSE(b.locked_by_other());  // no lock file yet
    REQUIRE(a->try_lock());
    CHECK(a->try_lock());  // already held: still true
    CHECK(mode_of(a->path() + "/lock") == 0600);
    CHECK(b.locked_by_other());
    CHECK_FALSE(b.try_lock());
    CHECK_FALSE(b.try_lock());
    a.reset();  // the launcher goes away: its lock with it
    CHECK_FALSE(b.locked_by_other());
    CHECK(b.try_lock());
    JobDir c(tmp.path(), "job");
    CHECK(c.locked_by_other());
    CHECK_FALSE(c.try_lock());
}
