// etcd's JSON gateway over libcurl (see etcd_client.h).
#include "etcd_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <thread>

namespace cps {

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::once_flag g_curl_once;

size_t collect(char *data, size_t size, size_t n, void *out)
{
    static_cast<std::string *>(out)->append(data, size * n);
    return size * n;
}

// A member's own answer that means "ask another member or later" (gRPC codes Unavailable,
// DeadlineExceeded, and etcd's leader-election messages) rather than "your request is wrong".
bool retryable_answer(const json &body)
{
    if (!body.contains("code")) return false;
    const int code = body["code"].is_number() ? body["code"].get<int>() : 0;
    if (code == 14 || code == 4 || code == 1) return true;
    const std::string msg = body.value("message", std::string());
    // A read at a revision this member has not applied yet: another member may have it.
    return msg.find("leader") != std::string::npos || msg.find("timed out") != std::string::npos ||
           msg.find("future revision") != std::string::npos ||
           msg.find("too many requests") != std::string::npos;
}

// How long one attempt on one member may take before the next member is tried.
std::chrono::milliseconds attempt_limit()
{
    static const long ms = [] {
        const char *v = std::getenv("CKPT_CPS_ATTEMPT_MS");
        const long n = v ? std::atol(v) : 0;
        return n > 0 ? n : 2000L;
    }();
    return std::chrono::milliseconds(ms);
}

}  // namespace

std::string b64_encode(const std::string &s)
{
    std::string out;
    out.reserve((s.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
        const uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (i < s.size()) {
        uint32_t v = uint8_t(s[i]) << 16;
        if (i + 1 < s.size()) v |= uint8_t(s[i + 1]) << 8;
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += i + 1 < s.size() ? kB64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string b64_decode(const std::string &s)
{
    static int8_t table[256];
    static std::once_flag once;
    std::call_once(once, [] {
        for (int i = 0; i < 256; ++i) table[i] = -1;
        for (int i = 0; i < 64; ++i) table[uint8_t(kB64[i])] = int8_t(i);
    });
    std::string out;
    out.reserve(s.size() / 4 * 3);
    uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : s) {
        if (table[c] < 0) continue;  // '=' padding, newlines
        acc = (acc << 6) | uint32_t(table[c]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xff);
        }
    }
    return out;
}

int64_t as_int(const json &v)
{
    if (v.is_string()) return std::strtoll(v.get<std::string>().c_str(), nullptr, 10);
    if (v.is_number()) return v.get<int64_t>();
    return 0;
}

int64_t header_revision(const json &body)
{
    if (body.contains("header") && body["header"].contains("revision")) return as_int(body["header"]["revision"]);
    return 0;
}

std::vector<KeyValue> kvs_of(const json &body)
{
    std::vector<KeyValue> out;
    if (!body.contains("kvs")) return out;
    for (const auto &kv : body["kvs"]) {
        KeyValue k;
        k.key = b64_decode(kv.value("key", std::string()));
        k.value = b64_decode(kv.value("value", std::string()));
        if (kv.contains("create_revision")) k.create_revision = as_int(kv["create_revision"]);
        if (kv.contains("mod_revision")) k.mod_revision = as_int(kv["mod_revision"]);
        if (kv.contains("version")) k.version = as_int(kv["version"]);
        if (kv.contains("lease")) k.lease = as_int(kv["lease"]);
        out.push_back(std::move(k));
    }
    return out;
}

std::string prefix_end(const std::string &prefix)
{
    std::string end = prefix;
    while (!end.empty()) {
        if (uint8_t(end.back()) < 0xff) {
            end.back() = char(uint8_t(end.back()) + 1);
            return end;
        }
        end.pop_back();
    }
    return std::string(1, '\0');  // the whole key space
}

EtcdClient::EtcdClient(std::vector<std::string> endpoints) : endpoints_(std::move(endpoints))
{
    std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
    // Different processes start on different members, so that one member's death does not
    // stall every client at once.
    if (!endpoints_.empty()) current_ = size_t(std::rand()) % endpoints_.size();
}

EtcdClient::~EtcdClient()
{
    if (curl_) curl_easy_cleanup(static_cast<CURL *>(curl_));
}

EtcdResult EtcdClient::call(const std::string &path, const json &request, Clock::time_point deadline)
{
    EtcdResult r;
    if (endpoints_.empty()) {
        r.error = EtcdError::kUnavailable;
        r.message = "no etcd endpoint configured";
        return r;
    }
    CURL *c = static_cast<CURL *>(curl_);
    const std::string payload = request.dump();
    bool answered = false;  // some member answered at all (then a failure is a time-out)
    std::string last_error;
    for (;;) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        auto budget = std::min<Clock::duration>(deadline - now, attempt_limit());
        const long budget_ms = std::max<long>(
            1, long(std::chrono::duration_cast<std::chrono::milliseconds>(budget).count()));
        const std::string &ep = endpoints_[current_];
        const std::string url = ep + path;
        std::string response;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.size()));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, budget_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(budget_ms, 500L));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
        struct curl_slist *headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        const CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(headers);
        if (rc == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            json body = json::parse(response, nullptr, false);
            if (!body.is_discarded() && status == 200 && !body.contains("error")) {
                r.body = std::move(body);
                return r;
            }
            answered = true;
            if (!body.is_discarded() && !retryable_answer(body) && status != 503) {
                r.error = EtcdError::kRejected;
                r.message = body.value("message", body.value("error", std::string("HTTP ") + std::to_string(status)));
                r.body = std::move(body);
                return r;
            }
            last_error = ep + ": " + (body.is_discarded() ? "HTTP " + std::to_string(status)
                                                          : body.value("message", std::string("error")));
        } else {
            if (rc == CURLE_OPERATION_TIMEDOUT) answered = true;
            last_error = ep + ": " + curl_easy_strerror(rc);
        }
        current_ = (current_ + 1) % endpoints_.size();
        // Every member refused the connection in turn: wait a little before the next round
        // instead of spinning (back-off, not synchronisation).
        if (current_ == 0 && rc == CURLE_COULDNT_CONNECT) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    r.error = answered ? EtcdError::kTimeout : EtcdError::kUnavailable;
    r.message = (answered ? "etcd did not commit in time (quorum lost?): " : "no etcd member reachable: ") + last_error;
    return r;
}

EtcdResult EtcdClient::range(const std::string &key, Clock::time_point deadline, bool prefix, int64_t revision,
                             bool count_only)
{
    json req = {{"key", b64_encode(key)}};
    if (prefix) req["range_end"] = b64_encode(prefix_end(key));
    if (revision > 0) {
        // What a revision held is immutable once committed, so any member that has applied it
        // may answer, without a quorum round: a standby reads notified changes even while the
        // cluster has lost its quorum.
        req["revision"] = std::to_string(revision);
        req["serializable"] = true;
    }
    if (count_only) req["count_only"] = true;
    return call("/v3/kv/range", req, deadline);
}

EtcdResult EtcdClient::put(const std::string &key, const std::string &value, int64_t lease, Clock::time_point deadline)
{
    json req = {{"key", b64_encode(key)}, {"value", b64_encode(value)}};
    if (lease) req["lease"] = std::to_string(lease);
    return call("/v3/kv/put", req, deadline);
}

EtcdResult EtcdClient::del(const std::string &key, Clock::time_point deadline, bool prefix)
{
    json req = {{"key", b64_encode(key)}};
    if (prefix) req["range_end"] = b64_encode(prefix_end(key));
    return call("/v3/kv/deleterange", req, deadline);
}

EtcdResult EtcdClient::txn(const json &compare, const json &success, const json &failure, Clock::time_point deadline)
{
    json req = json::object();
    req["compare"] = compare.is_null() ? json::array() : compare;
    req["success"] = success.is_null() ? json::array() : success;
    req["failure"] = failure.is_null() ? json::array() : failure;
    return call("/v3/kv/txn", req, deadline);
}

EtcdResult EtcdClient::grant(int64_t ttl_s, int64_t *id, Clock::time_point deadline)
{
    EtcdResult r = call("/v3/lease/grant", json{{"TTL", std::to_string(ttl_s)}}, deadline);
    if (r.ok()) *id = as_int(r.body["ID"]);
    return r;
}

EtcdResult EtcdClient::revoke(int64_t id, Clock::time_point deadline)
{
    return call("/v3/lease/revoke", json{{"ID", std::to_string(id)}}, deadline);
}

EtcdResult EtcdClient::keepalive(int64_t id, bool *alive, Clock::time_point deadline)
{
    EtcdResult r = call("/v3/lease/keepalive", json{{"ID", std::to_string(id)}}, deadline);
    if (r.ok()) {
        const json &res = r.body.contains("result") ? r.body["result"] : r.body;
        *alive = res.contains("TTL") && as_int(res["TTL"]) > 0;
    }
    return r;
}

json op_put(const std::string &key, const std::string &value, int64_t lease)
{
    json p = {{"key", b64_encode(key)}, {"value", b64_encode(value)}};
    if (lease) p["lease"] = std::to_string(lease);
    return json{{"request_put", p}};
}

json op_del(const std::string &key, bool prefix)
{
    json d = {{"key", b64_encode(key)}};
    if (prefix) d["range_end"] = b64_encode(prefix_end(key));
    return json{{"request_delete_range", d}};
}

json op_range(const std::string &key, bool prefix)
{
    json d = {{"key", b64_encode(key)}};
    if (prefix) d["range_end"] = b64_encode(prefix_end(key));
    return json{{"request_range", d}};
}

json cmp_mod(const std::string &key, int64_t mod_revision)
{
    return json{{"key", b64_encode(key)}, {"target", "MOD"}, {"result", "EQUAL"}, {"mod_revision", std::to_string(mod_revision)}};
}

json cmp_create(const std::string &key, int64_t create_revision)
{
    return json{{"key", b64_encode(key)}, {"target", "CREATE"}, {"result", "EQUAL"},
                {"create_revision", std::to_string(create_revision)}};
}

json cmp_value(const std::string &key, const std::string &value)
{
    return json{{"key", b64_encode(key)}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", b64_encode(value)}};
}

}  // namespace cps
