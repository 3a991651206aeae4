// A watch on a key prefix through etcd's streaming /v3/watch, in a thread of its own.
//
// Every committed revision that changes a key under the prefix is reported once, in revision
// order: when the stream breaks (a member died), the watch reconnects to the next endpoint and
// resumes at the revision after the last one it reported, so nothing is lost or repeated.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace cps {

struct WatchEvent {
    int64_t revision = 0;
    std::vector<std::string> keys;  // the keys this revision changed under the prefix
};

class EtcdWatch {
public:
    using Sink = std::function<void(WatchEvent)>;
    // Reports every revision >= start_revision.
    EtcdWatch(std::vector<std::string> endpoints, std::string prefix, int64_t start_revision, Sink sink);
    ~EtcdWatch();  // stops the thread
    EtcdWatch(const EtcdWatch &) = delete;
    EtcdWatch &operator=(const EtcdWatch &) = delete;

private:
    void run();
    bool stream_once(const std::string &endpoint);  // false: stop requested
    void feed(const char *data, size_t n);

    std::vector<std::string> endpoints_;
    std::string prefix_;
    int64_t next_revision_;
    Sink sink_;
    std::atomic<bool> stop_{false};
    void *multi_ = nullptr;
    std::string buffer_;
    std::thread thread_;
    friend size_t watch_write(char *, size_t, size_t, void *);
};

}  // namespace cps
