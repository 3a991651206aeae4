// Pending callbacks and their eventfd (see dispatch_queue.h).
#include "dispatch_queue.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace cps {

DispatchQueue::DispatchQueue() { fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE); }

DispatchQueue::~DispatchQueue()
{
    if (fd_ >= 0) ::close(fd_);
}

void DispatchQueue::push(std::function<void()> callback)
{
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    pending_.push_back(std::move(callback));
    const uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
}

bool DispatchQueue::run_one(bool wait)
{
    for (;;) {
        std::function<void()> cb;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (closed_) return false;
            if (!pending_.empty()) {
                cb = std::move(pending_.front());
                pending_.pop_front();
                uint64_t v;
                (void)!::read(fd_, &v, sizeof v);
            }
        }
        if (cb) {
            cb();
            return true;
        }
        if (!wait) return false;
        struct pollfd p = {fd_, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0 && errno != EINTR) return false;
    }
}

void DispatchQueue::close()
{
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    pending_.clear();
    const uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);  // wakes a blocked poll; it then sees closed_
}

bool DispatchQueue::closed() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
}

}  // namespace cps
