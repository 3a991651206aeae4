// Helpers of the checkpoint-service tests: names, attributes, a service per test, and direct
// access to etcd (through the library's own client) to look at or damage what is stored.
#pragma once

#include <ckp/cl_ckpt.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "config.h"
#include "etcd_client.h"
#include "keys.h"

namespace cpstest {

inline ClNameT name(const std::string &s)
{
    ClNameT n{};
    n.length = ClUInt16T(s.size());
    std::memcpy(n.value, s.data(), s.size());
    return n;
}

// A name no other test (or earlier run) uses.
inline std::string unique(const std::string &base)
{
    static std::mt19937_64 rng(std::random_device{}());
    return base + "-" + std::to_string(rng() % 1000000000);
}

// A section id pointing at `s` (which must outlive it); string literals point at themselves.
inline ClCkptSectionIdT sid(const char *s)
{
    return ClCkptSectionIdT{reinterpret_cast<ClUInt8T *>(const_cast<char *>(s)), ClUInt16T(std::strlen(s))};
}
inline ClCkptSectionIdT sid(const std::string &s)
{
    return ClCkptSectionIdT{reinterpret_cast<ClUInt8T *>(const_cast<char *>(s.data())), ClUInt16T(s.size())};
}

inline ClCkptCheckpointCreationAttributesT attrs(ClUInt32T flags = CL_CKPT_WR_ALL_REPLICAS, ClUInt32T max_sections = 4,
                                                 ClUInt32T max_section_size = 1024,
                                                 ClTimeT retention = CL_TIME_END)
{
    ClCkptCheckpointCreationAttributesT a{};
    a.creationFlags = flags;
    a.maxSections = max_sections;
    a.maxSectionSize = max_section_size;
    a.checkpointSize = ClSizeT(max_sections) * max_section_size;
    a.maxSectionIdSize = 16;
    a.retentionDuration = retention;
    return a;
}

inline ClVersionT version() { return ClVersionT{'B', 1, 1}; }

// One initialization, finalized at the end of the scope.
struct Svc {
    ClCkptSvcHdlT h = 0;
    explicit Svc(const ClCkptCallbacksT *cb = nullptr)
    {
        ClVersionT v = version();
        rc = clCkptInitialize(&h, cb, &v);
    }
    ~Svc()
    {
        if (rc == CL_OK) clCkptFinalize(h);
    }
    ClRcT rc;
};

inline cps::Clock::time_point soon() { return cps::Clock::now() + std::chrono::seconds(5); }

inline cps::EtcdClient &etcd()
{
    static cps::EtcdClient c(cps::configured_endpoints());
    return c;
}

// The instance id a checkpoint name points at ("" if none).
inline std::string instance_of(const std::string &ckpt)
{
    auto r = etcd().range(cps::name_key(ckpt), soon());
    auto kv = cps::kvs_of(r.body);
    return kv.empty() ? std::string() : kv[0].value;
}

// How many keys are stored under `prefix`.
inline long keys_under(const std::string &prefix)
{
    auto r = etcd().range(prefix, soon(), true, 0, true);
    return long(cps::as_int(r.body.value("count", cps::json("0"))));
}

// Polls `cond` every 20 ms until it holds or `seconds` pass; returns whether it held.
template <class F>
bool eventually(F cond, double seconds)
{
    const auto end = cps::Clock::now() + std::chrono::milliseconds(long(seconds * 1000));
    while (cps::Clock::now() < end) {
        if (cond()) return true;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
    return cond();
}

}  // namespace cpstest
