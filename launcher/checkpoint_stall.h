// Whether checkpoints have stalled: none committed for longer than twice the interval since
// the last one (or since the program started), and the reason the launcher gives the user
// (log and `ckptctl status`). Pure logic on time points given by the caller.
#pragma once

#include <chrono>
#include <string>

namespace ckpt {

class CheckpointStall {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    using Duration = std::chrono::nanoseconds;
    enum class Change { None, Began, Changed, Ended };

    explicit CheckpointStall(TimePoint start) : since_(start) {}

    // A checkpoint was committed at `now`: Ended if a stall was reported, else None.
    Change progress(TimePoint now);
    // Whether none has been committed for longer than 2 * interval (never with interval 0).
    bool overdue(TimePoint now, Duration interval) const;
    // When overdue() becomes true (TimePoint::max() if never, or already reported).
    TimePoint deadline(Duration interval) const;
    // Records the stall's current reason: Began the first time, Changed when it differs.
    Change report(const std::string &reason);

    bool stalled() const { return stalled_; }
    TimePoint since() const { return since_; }  // the last commit, or the start
    const std::string &reason() const { return reason_; }

private:
    TimePoint since_;
    bool stalled_ = false;
    std::string reason_;
};

}  // namespace ckpt
