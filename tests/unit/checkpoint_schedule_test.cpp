// CheckpointSchedule (launcher/checkpoint_schedule.h) with a fake clock: time points are
// built by hand, nothing sleeps.
#include <catch2/catch.hpp>

#include "checkpoint_schedule.h"

using namespace ckpt;
using namespace std::chrono_literals;
using TP = CheckpointSchedule::TimePoint;

namespace {
TP at(std::chrono::nanoseconds d) { return TP(d); }
}  // namespace

TEST_CASE("schedule: the interval runs from the end of the previous checkpoint")
{
    CheckpointSchedule s(1s, 0);
    s.start(at(0s));
    CHECK_FALSE(s.periodic_due(at(999ms)));
    CHECK(s.periodic_due(at(1s)));
    s.requested(at(1s));
    // One outstanding at a time: nothing is due while it runs, however long.
    CHECK(s.outstanding());
    CHECK_FALSE(s.periodic_due(at(5s)));
    s.finished(at(3s), 2s);
    CHECK(s.next_periodic() == at(4s));
}

TEST_CASE("schedule: --max-overhead bounds the share of time stopped")
{
    CheckpointSchedule s(1ms, 10);
    s.start(at(0s));
    s.requested(at(1ms));
    s.finished(at(101ms), 100ms);
    // 100 ms stopped at most 10 % of the time: at least 900 ms running before the next one.
    CHECK(s.overhead_delay() == 899ms);
    CHECK(s.next_periodic() == at(1001ms));
    CHECK_FALSE(s.periodic_due(at(1000ms)));
    CHECK(s.periodic_due(at(1001ms)));
    // The recent pauses are averaged.
    s.requested(at(1001ms));
    s.finished(at(1011ms), 10ms);
    CHECK(s.recent_pause() == 55ms);
}

TEST_CASE("schedule: 0 and 100 disable the bound, a long interval hides it")
{
    for (double pct : {0.0, 100.0}) {
        CheckpointSchedule s(1ms, pct);
        s.start(at(0s));
        s.requested(at(1ms));
        s.finished(at(1s), 999ms);
        CHECK(s.overhead_delay() == 0ns);
        CHECK(s.next_periodic() == at(1001ms));
    }
    CheckpointSchedule s(1h, 10);
    s.start(at(0s));
    s.requested(at(1h));
    s.finished(at(1h + 1s), 1s);
    CHECK(s.overhead_delay() == 0ns);
}

TEST_CASE("schedule: an unanswered request becomes stale, an abandoned one does not count")
{
    CheckpointSchedule s(1s, 10);
    s.start(at(0s));
    CHECK(s.next_wakeup() == at(1s));
    s.requested(at(1s));
    CHECK_FALSE(s.stale(at(60s)));
    CHECK(s.stale(at(62s)));
    CHECK(s.next_wakeup() > at(61s));
    s.abandoned(at(62s));
    CHECK_FALSE(s.outstanding());
    CHECK(s.recent_pause() == 0ns);
    CHECK(s.next_periodic() == at(63s));
    // No interval: no periodic checkpoints at all.
    s.set_interval(0ns);
    CHECK(s.next_periodic() == TP::max());
}

TEST_CASE("schedule: a failure without a reported pause counts the time since the request")
{
    CheckpointSchedule s(1ms, 50);
    s.start(at(0s));
    s.requested(at(10ms));
    s.finished(at(30ms), 0ns);
    CHECK(s.recent_pause() == 20ms);
    CHECK(s.next_periodic() == at(50ms));
}

TEST_CASE("parse_overhead")
{
    double p = -1;
    CHECK(parse_overhead("10", p));
    CHECK(p == 10);
    CHECK(parse_overhead("2.5%", p));
    CHECK(p == 2.5);
    CHECK(parse_overhead("0", p));
    CHECK(parse_overhead("100", p));
    CHECK_FALSE(parse_overhead("", p));
    CHECK_FALSE(parse_overhead("-1", p));
    CHECK_FALSE(parse_overhead("101", p));
    CHECK_FALSE(parse_overhead("ten", p));
    CHECK_FALSE(parse_overhead("5%%", p));
}
