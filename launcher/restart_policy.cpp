#include "restart_policy.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "duration.h"

namespace ckpt {

std::optional<std::string> RestartPolicy::configure(const std::string &spec, int max_restarts,
                                                    std::chrono::nanoseconds window,
                                                    std::chrono::nanoseconds backoff)
{
    on_signal_ = false;
    on_nonzero_ = false;
    statuses_.clear();
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item == "signal") on_signal_ = true;
        else if (item == "nonzero") on_nonzero_ = true;
        else if (item == "hang") {}  // hangs always restart; accepted for clarity
        else {
            char *end = nullptr;
            long v = std::strtol(item.c_str(), &end, 10);
            if (item.empty() || *end || v < 1 || v > 255)
                return "--restart-on: '" + item + "' is not signal, nonzero, hang or an exit status 1-255";
            statuses_.insert(int(v));
        }
    }
    if (max_restarts < 0) return "--max-restarts must be 0 or more";
    max_restarts_ = max_restarts;
    window_ = window;
    backoff_ = backoff;
    return std::nullopt;
}

bool RestartPolicy::is_failure(int wait_status, bool hung) const
{
    if (hung) return true;
    if (WIFSIGNALED(wait_status)) return on_signal_;
    if (!WIFEXITED(wait_status)) return false;
    const int code = WEXITSTATUS(wait_status);
    if (code == 0) return false;
    return on_nonzero_ || statuses_.count(code) != 0;
}

bool RestartPolicy::admit(std::chrono::steady_clock::time_point now)
{
    while (!recent_.empty() && now - recent_.front() > window_) recent_.pop_front();
    if (int(recent_.size()) >= max_restarts_) return false;
    recent_.push_back(now);
    return true;
}

std::chrono::nanoseconds RestartPolicy::delay() const
{
    // 1st restart in the window: backoff, then doubling, at most 30 s.
    const auto cap = std::chrono::nanoseconds(std::chrono::seconds(30));
    auto d = backoff_;
    for (size_t i = 1; i < recent_.size() && d < cap; ++i) d *= 2;
    return std::min(d, cap);
}

std::string describe_ending(int wait_status, const std::string &hang_reason)
{
    if (!hang_reason.empty()) return hang_reason;
    if (WIFSIGNALED(wait_status)) return "killed by " + signal_name(WTERMSIG(wait_status));
    if (WIFEXITED(wait_status)) return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
    return "ended";
}

}  // namespace ckpt
