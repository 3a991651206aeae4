// Background replication of an asynchronous checkpoint (see replicator.h).
#include "replicator.h"

#include <cstdlib>

#include "section_record.h"

namespace cps {

Replicator::Replicator(std::vector<std::string> endpoints, std::string active_key, std::string opener,
                       std::map<std::string, int64_t> revisions)
    : etcd_(std::move(endpoints)), active_key_(std::move(active_key)), opener_(std::move(opener)),
      revisions_(std::move(revisions))
{
    const char *m = std::getenv("CKPT_CPS_MAX_PENDING");
    max_pending_ = m && std::atol(m) > 0 ? size_t(std::atol(m)) : 128;
    thread_ = std::thread([this] { run(); });
}

Replicator::~Replicator()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

uint64_t Replicator::enqueue(std::vector<Change> changes)
{
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < max_pending_ || stop_ || !fenced_.empty(); });
    const uint64_t t = next_ticket_++;
    queue_.push_back(Item{t, Clock::now(), std::move(changes)});
    cv_.notify_all();
    return t;
}

uint64_t Replicator::last_ticket() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return next_ticket_ - 1;
}

size_t Replicator::pending() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return size_t(next_ticket_ - 1 - committed_);
}

int64_t Replicator::last_lag_ns() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return last_lag_ns_;
}

bool Replicator::fenced() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return !fenced_.empty();
}

std::string Replicator::wait_committed(uint64_t ticket, Clock::time_point deadline)
{
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return committed_ >= ticket || !fenced_.empty(); });
    if (committed_ >= ticket) return {};
    if (!fenced_.empty()) return fenced_;
    return "timed out waiting for etcd to commit " + std::to_string(ticket - committed_) + " write(s)";
}

void Replicator::run()
{
    for (;;) {
        Item item;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return stop_ || (!queue_.empty() && fenced_.empty()); });
            if (stop_) return;
            item = queue_.front();
        }
        const std::string why = commit(item.changes);
        std::lock_guard<std::mutex> lock(mu_);
        if (!why.empty()) {
            fenced_ = why;
        } else {
            queue_.pop_front();
            committed_ = item.ticket;
            last_lag_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - item.queued).count();
        }
        cv_.notify_all();
    }
}

std::string Replicator::commit(const std::vector<Change> &batch)
{
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stop_) return "stopped";
        }
        json compare = json::array({cmp_value(active_key_, opener_)});
        json ops = json::array();
        for (const Change &c : batch) {
            compare.push_back(cmp_mod(c.key, revisions_[c.key]));
            ops.push_back(c.value ? op_put(c.key, *c.value, c.lease) : op_del(c.key));
        }
        // Retried over the endpoints until it gets an answer: the queue keeps its order, so a
        // write cannot be skipped while etcd is away.
        EtcdResult r = etcd_.txn(compare, ops, json(), Clock::now() + std::chrono::seconds(5));
        if (r.error == EtcdError::kTimeout || r.error == EtcdError::kUnavailable) continue;
        if (!r.ok()) return "etcd refused a replicated write: " + r.message;
        if (r.body.value("succeeded", false)) {
            const int64_t rev = header_revision(r.body);
            for (const Change &c : batch) revisions_[c.key] = c.value ? rev : 0;
            return {};
        }
        // The condition failed: either an earlier attempt of this very batch committed (its
        // answer was lost), or someone else holds the active replica now.
        EtcdResult a = etcd_.range(active_key_, Clock::now() + std::chrono::seconds(5));
        if (!a.ok()) continue;
        const auto active = kvs_of(a.body);
        if (active.empty() || active[0].value != opener_)
            return "the active replica moved to another opener; unsynchronized writes were not replicated";
        const Change &first = batch.front();
        EtcdResult s = etcd_.range(first.key, Clock::now() + std::chrono::seconds(5));
        if (!s.ok()) continue;
        const auto kv = kvs_of(s.body);
        const bool done = first.value ? (!kv.empty() && decode_section(kv[0].value).write_seq == first.write_seq &&
                                         decode_section(kv[0].value).writer == decode_section(*first.value).writer)
                                      : kv.empty();
        if (done) {
            for (const Change &c : batch) revisions_[c.key] = (c.value && !kv.empty()) ? kv[0].mod_revision : 0;
            return {};
        }
        return "a replicated section was changed behind the active replica";
    }
}

}  // namespace cps
