// A client of etcd's v3 JSON gateway (HTTP POST /v3/...; keys and values base64) with libcurl
// and nlohmann-json. One EtcdClient is used by one thread at a time (it owns one curl handle,
// kept alive between calls); threads that work in parallel each make their own.
//
// Endpoint failover: a call that cannot reach a member, or that a member answers with an
// error meaning "no leader / try elsewhere", moves to the next endpoint and retries until the
// call's deadline. A retried write may have committed before the failure: callers that must
// not apply a change twice make their writes conditional (etcd transactions), see
// section_store.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cps {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string b64_encode(const std::string &s);
std::string b64_decode(const std::string &s);

// How a call failed.
enum class EtcdError {
    kNone,
    kTimeout,      // no member answered in time (quorum lost, all down)
    kUnavailable,  // no member reachable at all, never answered
    kRejected,     // etcd refused the request (bad request, lease not found, ...)
};

struct EtcdResult {
    EtcdError error = EtcdError::kNone;
    std::string message;  // why, for the user
    json body;            // the decoded answer when error == kNone
    bool ok() const { return error == EtcdError::kNone; }
};

// One key-value as etcd returns it.
struct KeyValue {
    std::string key, value;
    int64_t create_revision = 0, mod_revision = 0, version = 0, lease = 0;
};
std::vector<KeyValue> kvs_of(const json &body);
int64_t header_revision(const json &body);
int64_t as_int(const json &v);  // the gateway writes int64 as strings

class EtcdClient {
public:
    explicit EtcdClient(std::vector<std::string> endpoints);
    ~EtcdClient();
    EtcdClient(const EtcdClient &) = delete;
    EtcdClient &operator=(const EtcdClient &) = delete;

    // POST `path` (e.g. "/v3/kv/range") with `request`; retries over the endpoints until
    // `deadline`.
    EtcdResult call(const std::string &path, const json &request, Clock::time_point deadline);

    // Conveniences over call(). A range at a revision > 0 is served by any member that has
    // applied it (serializable).
    EtcdResult range(const std::string &key, Clock::time_point deadline, bool prefix = false,
                     int64_t revision = 0, bool count_only = false);
    EtcdResult put(const std::string &key, const std::string &value, int64_t lease, Clock::time_point deadline);
    EtcdResult del(const std::string &key, Clock::time_point deadline, bool prefix = false);
    EtcdResult txn(const json &compare, const json &success, const json &failure, Clock::time_point deadline);
    // A lease of ttl_s seconds; its id in *id (etcd may raise the TTL to its minimum).
    EtcdResult grant(int64_t ttl_s, int64_t *id, Clock::time_point deadline);
    EtcdResult revoke(int64_t id, Clock::time_point deadline);
    // Renews a lease; *alive is false when etcd no longer knows it.
    EtcdResult keepalive(int64_t id, bool *alive, Clock::time_point deadline);

    const std::vector<std::string> &endpoints() const { return endpoints_; }

private:
    std::vector<std::string> endpoints_;
    size_t current_ = 0;
    void *curl_ = nullptr;
};

// Request pieces for txn().
json op_put(const std::string &key, const std::string &value, int64_t lease = 0);
json op_del(const std::string &key, bool prefix = false);
json op_range(const std::string &key, bool prefix = false);
json cmp_mod(const std::string &key, int64_t mod_revision);        // key's mod_revision == r (0: absent)
json cmp_create(const std::string &key, int64_t create_revision);  // create_revision == r (0: absent)
json cmp_value(const std::string &key, const std::string &value);
std::string prefix_end(const std::string &prefix);

}  // namespace cps
