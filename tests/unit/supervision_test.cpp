// The launcher's state machine (launcher/supervision.h) without processes: a fake clock, and
// effects that record what the machine asked for. Nothing sleeps.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cstring>

#include "supervision.h"

using namespace ckpt;
using namespace std::chrono_literals;
using TP = Supervision::TimePoint;
using Kind = SupervisionEvent::Kind;

namespace {

constexpr int kPid = 4242;
constexpr int kSig = SIGUSR2;

struct FakeEffects : SupervisionEffects {
    std::vector<int> sent;  // signals sent to the program, in order
    int send_error = 0;
    bool stopped = false;
    int publishes = 0;
    JobStatus last;
    int signal_program(int sig) override
    {
        if (sig == kSig && send_error) return send_error;
        sent.push_back(sig);
        return 0;
    }
    std::vector<int> queued;  // sigqueue() values (sync requests, polls)
    std::vector<uint64_t> temps_discarded;
    int poll_program(int, int value) override
    {
        queued.push_back(value);
        return 0;
    }
    bool program_stopped() override { return stopped; }
    void publish(const JobStatus &s) override { ++publishes; last = s; }
    void prune(size_t) override {}
    void discard(uint64_t) override {}
    void discard_temp(uint64_t v) override { temps_discarded.push_back(v); }
    std::vector<int> writers_killed;
    void kill_writer(int pid) override { writers_killed.push_back(pid); }
    void notify_running(bool) override {}
    void notify_watchdog() override {}
    size_t checkpoint_signals() const { return size_t(std::count(sent.begin(), sent.end(), kSig)); }
};

StatusMessage record(StatusType type, uint64_t version = 0, uint64_t ns_a = 0, const char *text = "")
{
    StatusMessage m{};
    m.magic = kStatusMagic;
    m.type = type;
    m.pid = kPid;
    m.version = version;
    m.ns_a = ns_a;
    std::strncpy(m.text, text, sizeof m.text - 1);
    return m;
}

// One run: the machine, its effects and a fake clock that delivers Timer events when due.
struct Run {
    RunConfig cfg;
    RunOutcome out;
    JobStatus status;
    FakeEffects fx;
    TP now{};
    std::unique_ptr<Supervision> m;

    explicit Run(std::chrono::nanoseconds interval, double max_overhead = 0)
    {
        cfg.interval = interval;
        cfg.max_overhead_pct = max_overhead;
        cfg.signal = kSig;
        m = std::make_unique<Supervision>(cfg, "/nonexistent/job", kPid, false, 0, out, status, fx, now);
    }
    void event(SupervisionEvent e) { m->handle(e, now); }
    void rec(StatusMessage r) { event({Kind::Record, r}); }
    // Moves the clock to t, delivering every Timer event that comes due on the way.
    void advance_to(TP t)
    {
        for (int guard = 0; m->next_wakeup() <= t; ++guard) {
            REQUIRE(guard < 10000);
            now = std::max(now, m->next_wakeup());
            event({Kind::Timer});
        }
        now = t;
    }
    void advance(std::chrono::nanoseconds d) { advance_to(now + d); }
    // The outstanding request is answered: committed as `version`, after a pause of 1 ms.
    void commit(uint64_t version)
    {
        now += 1ms;
        rec(record(StatusType::CheckpointDone, version, 1000000));
    }
};

}  // namespace

TEST_CASE("supervision: Ready starts the schedule, the interval runs from the end of a checkpoint")
{
    Run r(1s);
    CHECK(r.m->phase() == Supervision::Phase::Starting);
    r.advance(500ms);
    r.rec(record(StatusType::Ready));
    CHECK(r.m->phase() == Supervision::Phase::Running);
    CHECK(r.status.state == "running");
    r.advance(999ms);
    CHECK(r.fx.checkpoint_signals() == 0);
    r.advance(1ms);
    CHECK(r.fx.checkpoint_signals() == 1);
    CHECK(r.m->request() == Supervision::Request::Requested);
    r.commit(1);
    CHECK(r.m->request() == Supervision::Request::Idle);
    CHECK(r.status.last_version == 1);
    CHECK(r.m->next_wakeup() == r.now + 1s);
}

TEST_CASE("supervision: an exec (Ready again) keeps the due time of the next checkpoint")
{
    Run r(1s);
    r.rec(record(StatusType::Ready));
    // The program execs every 300 ms: each new image reports Ready.
    for (int i = 0; i < 3; ++i) {
        r.advance(300ms);
        r.rec(record(StatusType::Ready));
    }
    CHECK(r.fx.checkpoint_signals() == 0);
    r.advance_to(TP(1s));
    CHECK(r.fx.checkpoint_signals() == 1);
    r.commit(1);
    r.advance(200ms);
    r.rec(record(StatusType::Ready));
    r.advance_to(TP(2001ms));
    CHECK(r.fx.checkpoint_signals() == 2);
}

TEST_CASE("supervision: requests are coalesced, a ckptctl request during one is sent after it")
{
    Run r(10s);
    r.rec(record(StatusType::Ready));
    r.event({Kind::Signal, {}, SIGUSR1});
    CHECK(r.fx.checkpoint_signals() == 1);
    r.event({Kind::Signal, {}, SIGUSR1});
    r.event({Kind::Signal, {}, SIGUSR1});
    CHECK(r.fx.checkpoint_signals() == 1);
    r.commit(1);
    CHECK(r.fx.checkpoint_signals() == 2);
    r.commit(2);
    CHECK(r.fx.checkpoint_signals() == 2);
    // Before Ready, nothing is sent.
    Run early(10s);
    early.event({Kind::Signal, {}, SIGUSR1});
    CHECK(early.fx.checkpoint_signals() == 0);
}

TEST_CASE("supervision: a checkpoint deferred inside a wrapper is reported as a stall, and its end")
{
    Run r(200ms);
    r.rec(record(StatusType::Ready));
    r.advance(200ms);
    REQUIRE(r.fx.checkpoint_signals() == 1);
    r.rec(record(StatusType::CheckpointDeferred, 0, 0, "the program is inside a file-changing call"));
    CHECK(r.m->request() == Supervision::Request::Deferred);
    r.advance(150ms);
    CHECK_FALSE(r.m->stall().stalled());
    CHECK(r.status.stalled_since_ns == 0);
    r.advance(100ms);  // 450 ms since the start > 2 x 200 ms
    REQUIRE(r.m->stall().stalled());
    CHECK(r.status.stalled_since_ns != 0);
    CHECK(r.status.stall_reason.find("deferred by the runtime") != std::string::npos);
    CHECK(r.fx.last.stall_reason == r.status.stall_reason);
    // No second request while the runtime holds the first.
    r.advance(10s);
    CHECK(r.fx.checkpoint_signals() == 1);
    r.commit(1);
    CHECK_FALSE(r.m->stall().stalled());
    CHECK(r.status.stalled_since_ns == 0);
    CHECK(r.status.stall_reason.empty());
    CHECK(r.fx.last.stall_reason.empty());
}

TEST_CASE("supervision: a stopped program gets no request, the stall says it is stopped")
{
    Run r(200ms);
    r.rec(record(StatusType::Ready));
    r.advance(200ms);
    r.commit(1);
    r.event({Kind::ChildStopped, {}, SIGSTOP});
    r.advance(2s);
    CHECK(r.fx.checkpoint_signals() == 1);
    REQUIRE(r.m->stall().stalled());
    CHECK(r.status.stall_reason.find("stopped (SIGSTOP)") != std::string::npos);
    r.event({Kind::ChildContinued});
    CHECK(r.m->next_wakeup() <= r.now);  // overdue: goes at once
    r.advance(0ms);
    CHECK(r.fx.checkpoint_signals() == 2);
    r.commit(2);
    CHECK_FALSE(r.m->stall().stalled());
    CHECK(r.status.stall_reason.empty());
}

TEST_CASE("supervision: stall reasons for refused, failed, unsent, not ready and --max-overhead")
{
    {
        Run r(100ms);
        r.rec(record(StatusType::Ready));
        r.advance(100ms);
        r.now += 1ms;
        r.rec(record(StatusType::CheckpointRefused, 0, 0, "is a pipe holding unread data"));
        r.advance(100ms);
        r.rec(record(StatusType::CheckpointRefused, 0, 0, "is a pipe holding unread data"));
        r.advance(50ms);
        REQUIRE(r.m->stall().stalled());
        CHECK(r.status.stall_reason == "refused: is a pipe holding unread data");
    }
    {
        Run r(100ms);
        r.rec(record(StatusType::Ready));
        r.fx.send_error = EAGAIN;
        r.advance(300ms);
        REQUIRE(r.m->stall().stalled());
        CHECK(r.status.stall_reason.find("cannot send the checkpoint signal") == 0);
    }
    {
        Run r(100ms);
        r.advance(250ms);
        REQUIRE(r.m->stall().stalled());
        CHECK(r.status.stall_reason.find("not ready") == 0);
    }
    {
        // 100 ms pauses, at most 10 %: 900 ms between checkpoints, far beyond 2 x 100 ms.
        Run r(100ms, 10);
        r.rec(record(StatusType::Ready));
        r.advance(100ms);
        r.now += 100ms;
        r.rec(record(StatusType::CheckpointDone, 1, 100000000));
        r.advance(300ms);
        REQUIRE(r.m->stall().stalled());
        CHECK(r.status.stall_reason.find("delayed by --max-overhead") == 0);
        CHECK(r.fx.checkpoint_signals() == 1);
        r.advance(600ms);
        CHECK(r.fx.checkpoint_signals() == 2);
    }
}

TEST_CASE("supervision: a stop request is passed on, then SIGKILL after --stop-timeout; exit ends it")
{
    Run r(0s);
    r.cfg.stop_timeout = 2s;
    r.rec(record(StatusType::Ready));
    r.event({Kind::Signal, {}, SIGTERM});
    CHECK(r.m->phase() == Supervision::Phase::Stopping);
    CHECK(r.out.stop_requested);
    REQUIRE(r.fx.sent.size() == 2);
    CHECK(r.fx.sent[0] == SIGTERM);
    CHECK(r.fx.sent[1] == SIGCONT);
    r.advance(1900ms);
    CHECK(r.fx.sent.size() == 2);
    r.advance(200ms);
    REQUIRE(r.fx.sent.size() == 3);
    CHECK(r.fx.sent[2] == SIGKILL);
    r.event({Kind::ChildExited, {}, 0, SIGKILL});
    CHECK(r.m->exited());
    CHECK(r.out.wait_status == SIGKILL);
    CHECK(r.m->next_wakeup() == TP::max());
}

TEST_CASE("supervision: no heartbeat within --heartbeat kills the program as hung")
{
    Run r(0s);
    r.cfg.heartbeat = 1s;
    r.m = std::make_unique<Supervision>(r.cfg, "/nonexistent/job", kPid, false, 0, r.out, r.status, r.fx, r.now);
    r.rec(record(StatusType::Ready));
    r.advance(900ms);
    r.rec(record(StatusType::Heartbeat));
    r.advance(900ms);
    CHECK_FALSE(r.out.hung);
    r.advance(200ms);
    CHECK(r.out.hung);
    CHECK(r.fx.sent == std::vector<int>{SIGKILL});
}

namespace {
StatusMessage writing(uint64_t version, int writer_pid, uint64_t pause_ns = 2000000)
{
    StatusMessage m = record(StatusType::CheckpointWriting, version, pause_ns);
    m.ns_b = uint64_t(writer_pid);
    return m;
}
}  // namespace

TEST_CASE("supervision: a forked write keeps the request outstanding until the writer commits")
{
    Run r(1s);
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    REQUIRE(r.fx.checkpoint_signals() == 1);
    r.rec(writing(1, 777));
    CHECK(r.m->request() == Supervision::Request::Writing);
    CHECK(r.m->writer_running());
    CHECK(r.status.writing_version == 1);
    CHECK(r.status.writer_pid == 777);
    // A long write: no second request (neither the interval nor ckptctl stacks one up).
    r.cfg.writer_timeout = 0s;  // never given up (the timeout's own tests are below)
    r.advance(120s);
    r.event({Kind::Signal, {}, SIGUSR1});
    CHECK(r.fx.checkpoint_signals() == 1);
    r.commit(1);
    CHECK(r.status.last_version == 1);
    CHECK(r.status.writing_version == 0);
    CHECK(r.m->writer_running());  // until it is reaped
    // The ckptctl request that waited goes now.
    CHECK(r.fx.checkpoint_signals() == 2);
    r.event({Kind::WriterExited, {}, 0, 0, 777});
    CHECK(!r.m->writer_running());
    CHECK(r.status.failures == 0);
}

TEST_CASE("supervision: a writer that dies before committing is a failure; its temporary image goes")
{
    Run r(1s);
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    r.rec(writing(4, 778));
    r.advance(10ms);
    r.event({Kind::WriterExited, {}, 0, SIGKILL, 778});  // wait status: killed by SIGKILL
    CHECK(!r.m->writer_running());
    CHECK(r.m->request() == Supervision::Request::Idle);
    CHECK(r.status.failures == 1);
    CHECK(r.status.last_error.find("writer of version 4 died (killed by SIGKILL)") != std::string::npos);
    CHECK(r.fx.temps_discarded == std::vector<uint64_t>{4});
    CHECK(r.status.last_version == 0);  // nothing committed
    // The next checkpoint is asked for on the schedule.
    r.advance(1100ms);
    CHECK(r.fx.checkpoint_signals() == 2);
}

TEST_CASE("supervision: a writer that cannot see the memory makes every later request synchronous")
{
    Run r(1s);
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    REQUIRE(r.fx.checkpoint_signals() == 1);
    r.rec(writing(1, 779));
    r.rec(record(StatusType::ForkUnsafe, 1, 0, "a MADV_WIPEONFORK region at 7f00-7f10"));
    r.event({Kind::WriterExited, {}, 0, 3 << 8, 779});
    // Asked again at once, synchronously (sigqueue with kSyncTag), not as a failure.
    REQUIRE(r.fx.queued.size() == 1);
    CHECK((uint32_t(r.fx.queued[0]) >> 16) == kSyncTag);
    CHECK(r.status.failures == 0);
    r.commit(1);
    r.advance(1100ms);
    REQUIRE(r.fx.queued.size() == 2);
    CHECK((uint32_t(r.fx.queued[1]) >> 16) == kSyncTag);
    CHECK(r.fx.checkpoint_signals() == 1);
}

TEST_CASE("supervision: --no-fork sends every request synchronously")
{
    Run r(1s);
    r.cfg.no_fork = true;
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    CHECK(r.fx.checkpoint_signals() == 0);
    REQUIRE(r.fx.queued.size() == 1);
    CHECK((uint32_t(r.fx.queued[0]) >> 16) == kSyncTag);
}

TEST_CASE("supervision: a writer that reports its commit before the program's CheckpointWriting is no failure")
{
    Run r(1s);
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    REQUIRE(r.fx.checkpoint_signals() == 1);
    r.commit(2);                 // a small image: the writer was faster
    r.rec(writing(2, 780));      // the program's record comes second
    CHECK(r.m->request() == Supervision::Request::Idle);
    CHECK(r.status.writing_version == 0);
    CHECK(r.m->writer_running());
    r.event({Kind::WriterExited, {}, 0, 0, 780});
    CHECK(!r.m->writer_running());
    CHECK(r.status.failures == 0);
    CHECK(r.fx.temps_discarded.empty());
    CHECK(r.status.last_version == 2);
}

TEST_CASE("supervision: a forked writer that does not commit within --writer-timeout is killed, its version given up")
{
    Run r(1s);
    r.cfg.writer_timeout = 5s;
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    REQUIRE(r.fx.checkpoint_signals() == 1);
    r.rec(writing(3, 779));
    r.advance(4900ms);
    CHECK(r.fx.writers_killed.empty());
    CHECK(r.fx.checkpoint_signals() == 1);
    r.advance(100ms);
    CHECK(r.fx.writers_killed == std::vector<int>{779});
    CHECK(r.fx.temps_discarded == std::vector<uint64_t>{3});
    CHECK(r.m->request() == Supervision::Request::Idle);
    CHECK(r.status.writing_version == 0);
    CHECK(r.status.failures == 1);
    CHECK(r.status.last_error.find("writer of version 3 (pid 779) did not commit within 5s") != std::string::npos);
    CHECK(r.status.last_version == 0);
    // Its exit (killed) is no second failure; the next checkpoint comes on the schedule.
    r.event({Kind::WriterExited, {}, 0, SIGKILL, 779});
    CHECK(!r.m->writer_running());
    CHECK(r.status.failures == 1);
    r.advance(1100ms);
    CHECK(r.fx.checkpoint_signals() == 2);
    r.rec(writing(4, 780));
    r.advance(10ms);
    r.commit(4);
    CHECK(r.status.last_version == 4);
    CHECK(r.fx.writers_killed.size() == 1);
}

TEST_CASE("supervision: a writer that hangs after the program exited is killed at its timeout too")
{
    Run r(1s);
    r.cfg.writer_timeout = 5s;
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    r.rec(writing(1, 784));
    r.advance(1s);
    r.event({Kind::ChildExited, {}, 0, 0});
    CHECK(r.m->exited());
    CHECK(r.m->writer_running());
    CHECK(r.m->next_wakeup() == r.now + 4s);
    r.advance(4s);
    CHECK(r.fx.writers_killed == std::vector<int>{784});
    CHECK(r.m->next_wakeup() == TP::max());
    r.event({Kind::WriterExited, {}, 0, SIGKILL, 784});
    CHECK(!r.m->writer_running());
}

TEST_CASE("supervision: --writer-timeout auto is max(60 s, 10 x the last forked write); 0 never kills")
{
    Run r(1s);
    r.rec(record(StatusType::Ready));
    r.advance(1s);
    r.rec(writing(1, 781));
    r.advance(59s);
    CHECK(r.fx.writers_killed.empty());
    r.commit(1);  // a write of about 59 s: the next may take 590 s
    r.event({Kind::WriterExited, {}, 0, 0, 781});
    r.advance(1s);
    REQUIRE(r.fx.checkpoint_signals() == 2);
    r.rec(writing(2, 782));
    r.advance(500s);
    CHECK(r.fx.writers_killed.empty());
    r.advance(100s);
    CHECK(r.fx.writers_killed == std::vector<int>{782});

    Run never(1s);
    never.cfg.writer_timeout = 0s;
    never.rec(record(StatusType::Ready));
    never.advance(1s);
    never.rec(writing(1, 783));
    never.advance(3600s);
    CHECK(never.fx.writers_killed.empty());
    CHECK(never.m->request() == Supervision::Request::Writing);
}
