// The watchdog's restart policy: which endings are failures worth a restart, how long to
// wait before the next attempt (exponential back-off), and when to give up (more than N
// restarts within a window).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <string>

namespace ckpt {

class RestartPolicy {
public:
    // spec: comma-separated "signal", "nonzero", "hang" and exit statuses ("3,4").
    // Returns an error message for a bad spec.
    std::optional<std::string> configure(const std::string &spec, int max_restarts,
                                         std::chrono::nanoseconds window,
                                         std::chrono::nanoseconds backoff);

    // Whether a program that ended with `wait_status` (hung: killed by the watchdog) is to be
    // restarted.
    bool is_failure(int wait_status, bool hung) const;

    // Records a restart at `now`; false if that exceeds the budget (give up).
    bool admit(std::chrono::steady_clock::time_point now);

    // Delay before the restart just admitted.
    std::chrono::nanoseconds delay() const;

    int max_restarts() const { return max_restarts_; }
    std::chrono::nanoseconds window() const { return window_; }

private:
    bool on_signal_ = true, on_nonzero_ = false;
    std::set<int> statuses_;
    int max_restarts_ = 5;
    std::chrono::nanoseconds window_{std::chrono::minutes(10)};
    std::chrono::nanoseconds backoff_{std::chrono::milliseconds(500)};
    std::deque<std::chrono::steady_clock::time_point> recent_;
};

// "killed by SIGSEGV", "exited with status 3", "hung: ..." for logs and status.
std::string describe_ending(int wait_status, const std::string &hang_reason);

}  // namespace ckpt
