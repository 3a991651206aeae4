#include "checkpoint_schedule.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ckpt {

CheckpointSchedule::CheckpointSchedule(Duration interval, double max_overhead_pct)
    : interval_(interval), max_overhead_pct_(max_overhead_pct)
{
}

void CheckpointSchedule::start(TimePoint now)
{
    started_ = true;
    outstanding_ = false;
    last_end_ = now;
}

CheckpointSchedule::Duration CheckpointSchedule::recent_pause() const
{
    if (n_pauses_ == 0) return Duration::zero();
    Duration sum{};
    for (size_t i = 0; i < n_pauses_; ++i) sum += pauses_[i];
    return sum / n_pauses_;
}

CheckpointSchedule::Duration CheckpointSchedule::overhead_delay() const
{
    if (max_overhead_pct_ <= 0 || max_overhead_pct_ >= 100) return Duration::zero();
    // Stopped share = pause / (pause + gap) <= pct  <=>  gap >= pause * (100 - pct) / pct.
    const double p = double(recent_pause().count());
    const Duration min_gap(int64_t(p * (100.0 - max_overhead_pct_) / max_overhead_pct_));
    return min_gap > interval_ ? min_gap - interval_ : Duration::zero();
}

CheckpointSchedule::TimePoint CheckpointSchedule::next_periodic() const
{
    if (!started_ || outstanding_ || interval_ <= Duration::zero()) return TimePoint::max();
    return last_end_ + interval_ + overhead_delay();
}

bool CheckpointSchedule::periodic_due(TimePoint now) const { return now >= next_periodic(); }

void CheckpointSchedule::requested(TimePoint now)
{
    outstanding_ = true;
    requested_at_ = now;
}

void CheckpointSchedule::finished(TimePoint now, Duration pause)
{
    if (pause <= Duration::zero()) pause = std::max(Duration::zero(), Duration(now - requested_at_));
    if (!outstanding_) pause = std::min(pause, Duration(now - last_end_));
    pauses_[next_pause_] = pause;
    next_pause_ = (next_pause_ + 1) % kRecent;
    n_pauses_ = std::min(n_pauses_ + 1, kRecent);
    outstanding_ = false;
    last_end_ = now;
}

void CheckpointSchedule::abandoned(TimePoint now)
{
    outstanding_ = false;
    last_end_ = now;
}

CheckpointSchedule::Duration CheckpointSchedule::stale_limit() const
{
    return std::max<Duration>(std::chrono::seconds(60), recent_pause() * 10);
}

bool CheckpointSchedule::stale(TimePoint now) const
{
    return outstanding_ && now - requested_at_ > stale_limit();
}

CheckpointSchedule::TimePoint CheckpointSchedule::next_wakeup() const
{
    if (outstanding_) return requested_at_ + stale_limit() + Duration(1);
    return next_periodic();
}

bool parse_overhead(const char *text, double &pct)
{
    if (!text || !*text) return false;
    char *end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text) return false;
    if (*end == '%') ++end;
    if (*end || !(v >= 0 && v <= 100)) return false;
    pct = v;
    return true;
}

}  // namespace ckpt
