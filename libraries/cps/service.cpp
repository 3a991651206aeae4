// One initialization of the service (see service.h).
#include "service.h"

#include <unistd.h>

#include <random>

#include "checkpoint.h"
#include "config.h"
#include "keys.h"

namespace cps {

Service::Service(ClCkptSvcHdlT handle, const ClCkptCallbacksT *callbacks, std::vector<std::string> endpoints)
    : handle_(handle), endpoints_(std::move(endpoints))
{
    if (callbacks) callbacks_ = *callbacks;
    std::random_device rd;
    token_ = (uint64_t(rd()) << 32) ^ rd() ^ uint64_t(getpid());
}

Service::~Service()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (keepalive_.joinable()) keepalive_.join();
    // The last reference may be dropped by an asynchronous open finishing in its own thread.
    for (auto &t : async_) {
        if (t.get_id() == std::this_thread::get_id()) t.detach();
        else t.join();
    }
    if (session_lease_) {
        EtcdClient etcd(endpoints_);
        etcd.revoke(session_lease_, Clock::now() + std::chrono::seconds(2));
    }
}

ClRcT Service::start(Clock::time_point deadline, std::string *why)
{
    EtcdClient etcd(endpoints_);
    // The layout version: written by the first client of a new store, checked by every other.
    EtcdResult r = etcd.txn(json::array({cmp_create(format_key(), 0)}), json::array({op_put(format_key(), kFormatVersion)}),
                            json::array({op_range(format_key())}), deadline);
    if (!r.ok()) {
        *why = r.message;
        return r.error == EtcdError::kRejected ? CL_CKPT_ERR_IO : CL_CKPT_ERR_TIMEOUT;
    }
    if (!r.body.value("succeeded", false)) {
        const json &resp = r.body["responses"][0]["response_range"];
        const auto kv = kvs_of(resp);
        if (!kv.empty() && kv[0].value != kFormatVersion) {
            *why = "the store at " + key_prefix() + " has layout version " + kv[0].value + ", this library knows " +
                   kFormatVersion;
            return CL_CKPT_ERR_VERSION_MISMATCH;
        }
    }
    session_ttl_ = session_ttl_seconds();
    r = etcd.grant(session_ttl_, &session_lease_, deadline);
    if (!r.ok()) {
        *why = r.message;
        return CL_CKPT_ERR_TIMEOUT;
    }
    session_ttl_ = std::max<int64_t>(session_ttl_, as_int(r.body["TTL"]));
    keepalive_ = std::thread([this] { keepalive_loop(); });
    return CL_OK;
}

int64_t Service::session_lease() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return session_lease_;
}

std::string Service::new_opener_id()
{
    char buf[48];
    snprintf(buf, sizeof buf, "%016llx-%llu", (unsigned long long)token_, (unsigned long long)next_opener_++);
    return buf;
}

void Service::attach(Checkpoint *c)
{
    std::lock_guard<std::mutex> lock(mu_);
    open_.insert(c);
}

void Service::detach(Checkpoint *c)
{
    std::lock_guard<std::mutex> busy(keepalive_busy_);  // not while the keep-alive uses it
    std::lock_guard<std::mutex> lock(mu_);
    open_.erase(c);
}

void Service::run_async(std::function<void()> work)
{
    std::lock_guard<std::mutex> lock(mu_);
    async_.emplace_back(std::move(work));
}

// Renews the session lease and the retention lease of every open checkpoint a few times per
// TTL. A session lease etcd has forgotten (the store was away longer than the TTL) is replaced
// and the open handles are registered again.
void Service::keepalive_loop()
{
    EtcdClient etcd(endpoints_);
    const auto period = std::chrono::milliseconds(std::max<int64_t>(200, session_ttl_ * 1000 / 4));
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, period, [&] { return stop_; });
        if (stop_) break;
        const int64_t session = session_lease_;
        lock.unlock();
        std::lock_guard<std::mutex> busy(keepalive_busy_);
        std::vector<Checkpoint *> open;
        {
            std::lock_guard<std::mutex> g(mu_);
            open.assign(open_.begin(), open_.end());
        }
        const auto deadline = Clock::now() + period;
        bool alive = true;
        EtcdResult r = etcd.keepalive(session, &alive, deadline);
        if (r.ok() && !alive) {
            int64_t fresh = 0;
            if (etcd.grant(session_ttl_, &fresh, deadline).ok()) {
                {
                    std::lock_guard<std::mutex> g(mu_);
                    session_lease_ = fresh;
                }
                for (Checkpoint *c : open) c->reregister(etcd, fresh);
            }
        }
        for (Checkpoint *c : open) {
            const int64_t lease = c->retention_lease_for_keepalive(etcd);
            if (lease) etcd.keepalive(lease, &alive, deadline);
        }
        lock.lock();
    }
}

}  // namespace cps
