// The callbacks waiting for clCkptDispatch, and the selection object that says so: an eventfd
// (semaphore mode) that is readable exactly while callbacks are pending. Threads of the
// library push; only the application's thread, inside clCkptDispatch, runs them.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

namespace cps {

class DispatchQueue {
public:
    DispatchQueue();
    ~DispatchQueue();
    bool valid() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void push(std::function<void()> callback);
    // Runs one pending callback; false if there was none. With `wait`, first waits until one
    // is pending or close() is called.
    bool run_one(bool wait);
    // Wakes a blocked run_one for good (clCkptFinalize).
    void close();
    bool closed() const;

private:
    int fd_ = -1;
    mutable std::mutex mu_;
    std::deque<std::function<void()>> pending_;
    bool closed_ = false;
};

}  // namespace cps
