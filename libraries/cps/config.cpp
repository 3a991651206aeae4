// Endpoints and time limits from the environment and the config file (see config.h).
#include "config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cps {

namespace {
std::vector<std::string> split_endpoints(const std::string &s)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        const size_t b = item.find_first_not_of(" \t");
        const size_t e = item.find_last_not_of(" \t\r\n");
        if (b == std::string::npos) continue;
        item = item.substr(b, e - b + 1);
        if (item.find("://") == std::string::npos) item = "http://" + item;
        while (!item.empty() && item.back() == '/') item.pop_back();
        out.push_back(item);
    }
    return out;
}

long env_long(const char *name, long fallback)
{
    const char *v = std::getenv(name);
    if (!v || !*v) return fallback;
    char *end = nullptr;
    const long n = std::strtol(v, &end, 10);
    return (end && *end == '\0' && n > 0) ? n : fallback;
}
}  // namespace

std::string config_file_path()
{
    if (const char *p = std::getenv("CKPT_CPS_CONFIG"); p && *p) return p;
    if (const char *x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/ckpt/cps.conf";
    if (const char *h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/ckpt/cps.conf";
    return {};
}

std::vector<std::string> configured_endpoints()
{
    if (const char *e = std::getenv("CKPT_CPS_ENDPOINTS"); e && *e) return split_endpoints(e);
    const std::string path = config_file_path();
    if (!path.empty()) {
        std::ifstream in(path);
        std::string line;
        while (std::getline(in, line)) {
            const size_t eq = line.find('=');
            if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
            std::string key = line.substr(0, eq);
            key.erase(key.find_last_not_of(" \t") + 1);
            if (key == "endpoints") return split_endpoints(line.substr(eq + 1));
        }
    }
    return {kDefaultEndpoint};
}

std::chrono::milliseconds default_timeout()
{
    return std::chrono::milliseconds(env_long("CKPT_CPS_TIMEOUT_MS", 10000));
}

int64_t session_ttl_seconds() { return env_long("CKPT_CPS_SESSION_TTL_S", 3); }

}  // namespace cps
