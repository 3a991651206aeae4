// cps_bench: write throughput and latency of the checkpoint service against the etcd at
// $CKPT_CPS_ENDPOINTS (scripts/bench.sh runs it on a three-member loopback cluster), printed
// as a Markdown table (docs/performance.md).
//
// For each section size (100 B, 4 KiB, 256 KiB; argv[1..] overrides) and kind:
//   sync  - clCkptSectionOverwrite on a WR_ALL_REPLICAS checkpoint: each call returns once etcd
//           has committed the write; writes/s and the p50/p99 of the call's latency.
//   async - the same on a WR_ACTIVE_REPLICA checkpoint: the call returns once the local active
//           replica has it; writes/s counts until clCkptCheckpointSynchronize has them all in
//           etcd; latency is the call's; lag is the time from a write's acknowledgement until a
//           second initialization in the same process, registered for immediate consumption,
//           has the notification of that write and has read it (p50/p99): what a standby
//           would lag behind the active replica.
// $BENCH_CPS_WRITES writes per size (default 200).
#include <ckp/cl_ckpt.h>

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

// The watcher's view: when each write was acknowledged and when its notification was read.
std::vector<std::atomic<int64_t>> *g_acked;
std::vector<double> g_lag;
std::atomic<int> g_notified{0};

ClRcT on_change(ClNameT *, ClCkptHdlT h)
{
    const int64_t t = now_ns();
    ClCkptIOVectorElementT e{};
    e.sectionId = ClCkptSectionIdT{(ClUInt8T *)"s", 1};
    ClUInt32T bad;
    if (clCkptCheckpointRead(h, &e, 1, &bad) != CL_OK || e.readSize < 8) return CL_OK;
    uint64_t i;
    std::memcpy(&i, e.dataBuffer, 8);
    std::free(e.dataBuffer);
    if (i < g_acked->size()) {
        const int64_t acked = (*g_acked)[i].load();
        g_lag.push_back(acked ? double(std::max<int64_t>(0, t - acked)) / 1e6 : 0.0);
    }
    ++g_notified;
    return CL_OK;
}

double pct(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

[[noreturn]] void die(const char *what, ClRcT rc)
{
    std::fprintf(stderr, "cps_bench: %s: 0x%x %s\n", what, rc, clCkptErrorText());
    std::exit(1);
}

std::string size_text(size_t n)
{
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
    return std::to_string(n) + " B";
}

std::string lag_text(const std::vector<double> &lag)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f / %.2f", pct(lag, 0.5), pct(lag, 0.99));
    return buf;
}

void run(ClCkptSvcHdlT svc, bool async, size_t size, int writes)
{
    const std::string name = std::string("bench-") + (async ? "async-" : "sync-") + std::to_string(size) + "-" +
                             std::to_string(std::rand());
    ClNameT nm{};
    nm.length = ClUInt16T(name.size());
    std::memcpy(nm.value, name.data(), name.size());
    ClCkptCheckpointCreationAttributesT a{};
    a.creationFlags = async ? CL_CKPT_WR_ACTIVE_REPLICA : CL_CKPT_WR_ALL_REPLICAS;
    a.maxSections = 2;
    a.maxSectionSize = ClUInt32T(size);
    a.checkpointSize = 2 * size;
    a.maxSectionIdSize = 8;
    a.retentionDuration = 0;
    ClCkptHdlT h;
    if (ClRcT rc = clCkptCheckpointOpen(svc, &nm, &a,
                                        CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE, 0, &h))
        die("open", rc);
    ClCkptSectionIdT id{(ClUInt8T *)"s", 1};
    ClCkptSectionCreationAttributesT ca{CL_TIME_END, &id};
    std::string data(size, 'x');
    if (ClRcT rc = clCkptSectionCreate(h, &ca, (const ClUInt8T *)data.data(), size)) die("section", rc);
    if (async) clCkptCheckpointSynchronize(h, 0);
    // The watcher: its own initialization, dispatched in its own thread.
    std::vector<std::atomic<int64_t>> acked(size_t(writes) + 1);
    g_acked = &acked;
    g_lag.clear();
    g_notified = 0;
    ClCkptSvcHdlT wsvc = 0;
    ClCkptHdlT wh = 0;
    std::atomic<bool> stop{false};
    std::thread watcher;
    if (async) {
        ClVersionT v{'B', 1, 1};
        if (ClRcT rc = clCkptInitialize(&wsvc, nullptr, &v)) die("initialize watcher", rc);
        if (ClRcT rc = clCkptCheckpointOpen(wsvc, &nm, nullptr, CL_CKPT_CHECKPOINT_READ, 0, &wh)) die("open watcher", rc);
        if (ClRcT rc = clCkptImmediateConsumptionRegister(wh, on_change)) die("register", rc);
        ClSelectionObjectT so;
        clCkptSelectionObjectGet(wsvc, &so);
        watcher = std::thread([&stop, wsvc, so] {
            while (!stop) {
                struct pollfd p = {so, POLLIN, 0};
                if (::poll(&p, 1, 50) == 1) clCkptDispatch(wsvc, CL_DISPATCH_ALL);
            }
        });
    }
    std::vector<double> lat;
    const auto t0 = Clock::now();
    for (int i = 1; i <= writes; ++i) {
        const uint64_t idx = uint64_t(i);
        std::memcpy(&data[0], &idx, 8);
        const auto s = Clock::now();
        if (ClRcT rc = clCkptSectionOverwrite(h, &id, data.data(), size)) die("overwrite", rc);
        acked[size_t(i)] = now_ns();
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    }
    if (async)
        if (ClRcT rc = clCkptCheckpointSynchronize(h, 0)) die("synchronize", rc);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> lag;
    if (async) {
        // Every write has its notification (a bounded wait; a missing one is reported).
        const auto end = Clock::now() + std::chrono::seconds(30);
        while (g_notified < writes && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        stop = true;
        watcher.join();
        lag = g_lag;
        if (g_notified < writes) std::fprintf(stderr, "cps_bench: %d of %d notifications\n", g_notified.load(), writes);
        clCkptCheckpointClose(wh);
        clCkptFinalize(wsvc);
    }
    std::printf("| %s | %s | %.0f | %.2f | %.2f | %s |\n", async ? "async" : "sync", size_text(size).c_str(),
                writes / secs, pct(lat, 0.5), pct(lat, 0.99),
                async ? lag_text(lag).c_str() : "-");
    std::fflush(stdout);
    clCkptCheckpointClose(h);
    clCkptCheckpointDelete(svc, &nm);
}

}  // namespace

int main(int argc, char **argv)
{
    std::vector<size_t> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
    if (sizes.empty()) sizes = {100, 4096, 262144};
    const char *w = std::getenv("BENCH_CPS_WRITES");
    const int writes = w ? std::max(1, std::atoi(w)) : 200;
    ClCkptSvcHdlT svc;
    ClVersionT v{'B', 1, 1};
    if (ClRcT rc = clCkptInitialize(&svc, nullptr, &v)) die("initialize", rc);
    std::printf("| kind | section | writes/s | p50 ms | p99 ms | lag p50 / p99 ms |\n");
    std::printf("|---|---|---:|---:|---:|---:|\n");
    for (bool async : {false, true})
        for (size_t s : sizes) run(svc, async, s, writes);
    clCkptFinalize(svc);
    return 0;
}
