// Where the service finds etcd and how long it waits for it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace cps {

// The etcd client URLs: $CKPT_CPS_ENDPOINTS (comma-separated), else the "endpoints = ..." line
// of the config file ($CKPT_CPS_CONFIG, default ~/.config/ckpt/cps.conf), else the embedded
// member of `ckptctl cps serve` (kDefaultEndpoint).
inline constexpr const char *kDefaultEndpoint = "http://127.0.0.1:2379";
std::vector<std::string> configured_endpoints();
std::string config_file_path();

// A call's deadline when its caller gives none: $CKPT_CPS_TIMEOUT_MS, default 10 s.
std::chrono::milliseconds default_timeout();
// The TTL of a process's session lease (its open handles and active replicas die with it
// that long after the process): $CKPT_CPS_SESSION_TTL_S, default 3 s (etcd raises it to its
// minimum, 2 s with the default election timeout).
int64_t session_ttl_seconds();

}  // namespace cps
