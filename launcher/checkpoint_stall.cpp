#include "checkpoint_stall.h"

namespace ckpt {

CheckpointStall::Change CheckpointStall::progress(TimePoint now)
{
    const bool was = stalled_;
    since_ = now;
    stalled_ = false;
    reason_.clear();
    return was ? Change::Ended : Change::None;
}

bool CheckpointStall::overdue(TimePoint now, Duration interval) const
{
    return interval > Duration::zero() && now - since_ > 2 * interval;
}

CheckpointStall::TimePoint CheckpointStall::deadline(Duration interval) const
{
    if (stalled_ || interval <= Duration::zero()) return TimePoint::max();
    return since_ + 2 * interval + Duration(1);
}

CheckpointStall::Change CheckpointStall::report(const std::string &reason)
{
    if (!stalled_) {
        stalled_ = true;
        reason_ = reason;
        return Change::Began;
    }
    if (reason == reason_) return Change::None;
    reason_ = reason;
    return Change::Changed;
}

}  // namespace ckpt
