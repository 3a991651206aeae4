// When the launcher may ask the program for its next checkpoint. One rule for every source
// of requests (the interval timer, `ckptctl checkpoint`, the watchdog): at most one checkpoint
// outstanding at a time, the interval counted from the end of the previous checkpoint, and the
// share of time the program spends stopped in checkpoints bounded by --max-overhead.
//
// Pure logic on time points given by the caller, so that it can be tested with a fake clock.
#pragma once

#include <chrono>
#include <cstddef>

namespace ckpt {

class CheckpointSchedule {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;
    using Duration = std::chrono::nanoseconds;

    // interval: 0 = no periodic checkpoints. max_overhead_pct: 0 or >= 100 = no bound.
    CheckpointSchedule(Duration interval, double max_overhead_pct);

    void set_interval(Duration interval) { interval_ = interval; }
    Duration interval() const { return interval_; }

    // The program is ready for checkpoints from `now` on: the first periodic one is due an
    // interval later.
    void start(TimePoint now);

    // Whether a periodic checkpoint may be requested now.
    bool periodic_due(TimePoint now) const;
    // When the next periodic checkpoint is due (TimePoint::max() if none is, or one is
    // outstanding: it is scheduled again when that one ends).
    TimePoint next_periodic() const;
    // Whether the overhead bound (not the interval) pushes the next periodic checkpoint
    // later, and by how much; for the log.
    Duration overhead_delay() const;

    bool outstanding() const { return outstanding_; }
    TimePoint requested_at() const { return requested_at_; }  // of the outstanding request
    // A request was sent to the program at `now`.
    void requested(TimePoint now);
    // The outstanding checkpoint ended at `now`, committed or not; `pause` is how long the
    // program was stopped (0 if unknown: then the time since the request counts).
    void finished(TimePoint now, Duration pause);
    // The outstanding request is given up without an answer (signal not delivered, program
    // stopped); it does not count as a pause.
    void abandoned(TimePoint now);
    // When the caller should look again: the next periodic checkpoint, or, while one is
    // outstanding, the moment it becomes stale. TimePoint::max() if never.
    TimePoint next_wakeup() const;
    // Whether the outstanding request has waited so long without an answer that another may
    // be sent (the program blocks the signal, or replaced its handler).
    bool stale(TimePoint now) const;

    // Mean pause of the recent checkpoints (0 before the first).
    Duration recent_pause() const;
    double max_overhead_pct() const { return max_overhead_pct_; }

private:
    static constexpr size_t kRecent = 4;
    Duration interval_;
    double max_overhead_pct_;
    bool started_ = false;
    bool outstanding_ = false;
    TimePoint requested_at_{}, last_end_{};
    Duration stale_limit() const;
    Duration pauses_[kRecent] = {};
    size_t n_pauses_ = 0, next_pause_ = 0;
};

// Parses --max-overhead: a percentage 0..100 ("10", "2.5", "10%"); false if invalid.
bool parse_overhead(const char *text, double &pct);

}  // namespace ckpt
