// The streaming watch (see etcd_watch.h). curl's multi interface lets the destructor wake the
// thread out of its wait (curl_multi_wakeup) instead of waiting for a time-out.
#include "etcd_watch.h"

#include <curl/curl.h>

#include <chrono>

#include "etcd_client.h"

namespace cps {

size_t watch_write(char *data, size_t size, size_t n, void *self)
{
    static_cast<EtcdWatch *>(self)->feed(data, size * n);
    return size * n;
}

EtcdWatch::EtcdWatch(std::vector<std::string> endpoints, std::string prefix, int64_t start_revision, Sink sink)
    : endpoints_(std::move(endpoints)), prefix_(std::move(prefix)), next_revision_(start_revision),
      sink_(std::move(sink))
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi_ = curl_multi_init();
    thread_ = std::thread([this] { run(); });
}

EtcdWatch::~EtcdWatch()
{
    stop_ = true;
    curl_multi_wakeup(static_cast<CURLM *>(multi_));
    thread_.join();
    curl_multi_cleanup(static_cast<CURLM *>(multi_));
}

void EtcdWatch::run()
{
    size_t i = 0;
    while (!stop_) {
        if (!stream_once(endpoints_[i % endpoints_.size()])) break;
        ++i;
        // The member went away; wait briefly before the next one (back-off, wakeable).
        int ignored = 0;
        curl_multi_poll(static_cast<CURLM *>(multi_), nullptr, 0, 100, &ignored);
    }
}

// Splits the stream into its JSON objects (the gateway writes one per message) by counting
// braces outside strings.
void EtcdWatch::feed(const char *data, size_t n)
{
    buffer_.append(data, n);
    size_t start = 0;
    int depth = 0;
    bool in_string = false, escape = false;
    size_t consumed = 0;
    for (size_t i = 0; i < buffer_.size(); ++i) {
        const char c = buffer_[i];
        if (in_string) {
            if (escape) escape = false;
            else if (c == '\\') escape = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{') {
            if (depth++ == 0) start = i;
        } else if (c == '}' && depth > 0 && --depth == 0) {
            json msg = json::parse(buffer_.begin() + long(start), buffer_.begin() + long(i) + 1, nullptr, false);
            consumed = i + 1;
            if (msg.is_discarded()) continue;
            const json &res = msg.contains("result") ? msg["result"] : msg;
            if (!res.contains("events")) continue;
            // Events of one revision (one transaction) become one WatchEvent.
            WatchEvent ev;
            for (const auto &e : res["events"]) {
                const json &kv = e["kv"];
                const int64_t rev = as_int(kv["mod_revision"]);
                if (rev < next_revision_) continue;  // already reported before a reconnect
                if (ev.revision && rev != ev.revision) {
                    next_revision_ = ev.revision + 1;
                    sink_(std::move(ev));
                    ev = WatchEvent{};
                }
                ev.revision = rev;
                ev.keys.push_back(b64_decode(kv.value("key", std::string())));
            }
            if (ev.revision) {
                next_revision_ = ev.revision + 1;
                sink_(std::move(ev));
            }
        }
    }
    buffer_.erase(0, consumed);
}

bool EtcdWatch::stream_once(const std::string &endpoint)
{
    CURLM *m = static_cast<CURLM *>(multi_);
    CURL *c = curl_easy_init();
    const std::string url = endpoint + "/v3/watch";
    json req = {{"create_request",
                 {{"key", b64_encode(prefix_)},
                  {"range_end", b64_encode(prefix_end(prefix_))},
                  {"start_revision", std::to_string(next_revision_)},
                  {"progress_notify", true}}}};
    const std::string payload = req.dump();
    buffer_.clear();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 500L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    // A member cut off from the others stops sending anything, even progress notifications
    // (sent every few minutes by etcd): nothing for 15 s on a stream means "try another".
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 15L);
    curl_multi_add_handle(m, c);
    int running = 1;
    while (!stop_ && running) {
        curl_multi_perform(m, &running);
        if (!running) break;
        int numfds = 0;
        curl_multi_poll(m, nullptr, 0, 1000, &numfds);
    }
    curl_multi_remove_handle(m, c);
    curl_easy_cleanup(c);
    return !stop_;
}

}  // namespace cps
