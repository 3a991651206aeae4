// The background replication of an asynchronous checkpoint's active replica: writes are
// acknowledged once the local copy has them, queued here in order and committed to etcd one
// transaction each, in the order they were made. Every transaction is fenced (it commits only
// while this opener still holds the active replica) and conditional on the revision the
// replicator last committed for each key, so a retry after a lost answer never applies a
// change twice and a replica that lost its active role cannot overwrite its successor.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etcd_client.h"

namespace cps {

// One key's new state: a value (with its lease) or, without one, deletion.
struct Change {
    std::string key;
    std::optional<std::string> value;
    int64_t lease = 0;
    uint64_t write_seq = 0;  // the writer tag inside `value` (0 for deletions)
};

class Replicator {
public:
    // `revisions`: the mod revision etcd has for each key the local copy was loaded from.
    Replicator(std::vector<std::string> endpoints, std::string active_key, std::string opener,
               std::map<std::string, int64_t> revisions);
    ~Replicator();  // stops; what is still queued is dropped (the process may be dying)

    // Queues one write (several keys, committed together); returns its ticket. The queue is
    // bounded ($CKPT_CPS_MAX_PENDING writes, default 128): a writer that gets that far ahead
    // of etcd waits, so the lag stays bounded.
    uint64_t enqueue(std::vector<Change> changes);
    // Waits until every write queued before the call is committed, or `deadline`.
    // Returns "" on success, else why not.
    std::string wait_committed(uint64_t ticket, Clock::time_point deadline);
    uint64_t last_ticket() const;
    size_t pending() const;
    int64_t last_lag_ns() const;
    // True once the active replica was taken by another opener (nothing more commits).
    bool fenced() const;

private:
    void run();
    // Commits one batch; "" or why it cannot (fenced).
    std::string commit(const std::vector<Change> &batch);

    EtcdClient etcd_;
    std::string active_key_, opener_;
    std::map<std::string, int64_t> revisions_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    struct Item {
        uint64_t ticket;
        Clock::time_point queued;
        std::vector<Change> changes;
    };
    std::deque<Item> queue_;
    uint64_t next_ticket_ = 1, committed_ = 0;
    int64_t last_lag_ns_ = 0;
    std::string fenced_;
    bool stop_ = false;
    size_t max_pending_;
    std::thread thread_;
};

}  // namespace cps
