// One initialization of the checkpoint service (clCkptInitialize): the application's
// callbacks and their dispatch queue, the process's session lease in etcd (the open handles
// and active replicas of this initialization live on it, so they vanish when the process
// dies), and the keep-alive thread that renews it and the retention leases of the
// checkpoints it has open.
#pragma once

#include <ckp/cl_ckpt.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dispatch_queue.h"
#include "etcd_client.h"

namespace cps {

class Checkpoint;

class Service {
public:
    Service(ClCkptSvcHdlT handle, const ClCkptCallbacksT *callbacks, std::vector<std::string> endpoints);
    ~Service();  // stops the keep-alive thread and revokes the session lease

    // Connects: checks the store's layout version and takes the session lease.
    // CL_OK, or a code with `why` set.
    ClRcT start(Clock::time_point deadline, std::string *why);

    ClCkptSvcHdlT handle() const { return handle_; }
    const ClCkptCallbacksT &callbacks() const { return callbacks_; }
    const std::vector<std::string> &endpoints() const { return endpoints_; }
    DispatchQueue &queue() { return queue_; }
    int64_t session_lease() const;
    // A fresh id for an open handle ("<process token>-<n>").
    std::string new_opener_id();
    uint64_t token() const { return token_; }

    // The keep-alive thread renews the retention lease of every checkpoint registered here.
    void attach(Checkpoint *c);
    void detach(Checkpoint *c);

    // Work that must not block the caller (clCkptCheckpointOpenAsync, SynchronizeAsync): runs
    // in a thread of its own, joined at Finalize.
    void run_async(std::function<void()> work);

private:
    void keepalive_loop();

    ClCkptSvcHdlT handle_;
    ClCkptCallbacksT callbacks_{};
    std::vector<std::string> endpoints_;
    DispatchQueue queue_;
    uint64_t token_;
    std::atomic<uint64_t> next_opener_{1};
    mutable std::mutex mu_;
    std::mutex keepalive_busy_;  // held while the keep-alive thread uses the open checkpoints
    std::condition_variable cv_;
    bool stop_ = false;
    int64_t session_lease_ = 0;
    int64_t session_ttl_ = 0;
    std::set<Checkpoint *> open_;
    std::thread keepalive_;
    std::vector<std::thread> async_;
};

}  // namespace cps
