#include "duration.h"

#include <signal.h>
#include <string.h>

#include <cmath>
#include <cstdlib>

namespace ckpt {

std::optional<std::chrono::nanoseconds> parse_duration(const std::string &text)
{
    if (text.empty()) return std::nullopt;
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
    const std::string unit(end);
    double scale;
    if (unit.empty() || unit == "s") scale = 1e9;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "us") scale = 1e3;
    else if (unit == "m" || unit == "min") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return std::nullopt;
    const double ns = v * scale;
    if (ns > 9e18) return std::nullopt;
    return std::chrono::nanoseconds(static_cast<int64_t>(ns));
}

std::string format_duration(std::chrono::nanoseconds d)
{
    const int64_t ns = d.count();
    if (ns % 3600000000000LL == 0 && ns) return std::to_string(ns / 3600000000000LL) + "h";
    if (ns % 60000000000LL == 0 && ns) return std::to_string(ns / 60000000000LL) + "m";
    if (ns % 1000000000LL == 0) return std::to_string(ns / 1000000000LL) + "s";
    if (ns % 1000000LL == 0) return std::to_string(ns / 1000000LL) + "ms";
    return std::to_string(ns) + "ns";
}

std::optional<int> parse_signal(const std::string &text)
{
    if (text.empty()) return std::nullopt;
    char *end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    if (*end == 0) return (n > 0 && n < NSIG) ? std::optional<int>(int(n)) : std::nullopt;
    std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
    auto relative = [&](const char *base, int value) -> std::optional<int> {
        const size_t bl = strlen(base);
        if (name.compare(0, bl, base) != 0) return std::nullopt;
        if (name.size() == bl) return value;
        char *e = nullptr;
        long off = std::strtol(name.c_str() + bl, &e, 10);
        if (*e || (name[bl] != '+' && name[bl] != '-')) return std::nullopt;
        int s = value + int(off);
        return (s >= SIGRTMIN && s <= SIGRTMAX) ? std::optional<int>(s) : std::nullopt;
    };
    if (auto s = relative("RTMIN", SIGRTMIN)) return s;
    if (auto s = relative("RTMAX", SIGRTMAX)) return s;
    for (int s = 1; s < SIGRTMIN; ++s) {
        const char *abbrev = sigabbrev_np(s);
        if (abbrev && name == abbrev) return s;
    }
    return std::nullopt;
}

std::string signal_name(int sig)
{
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        int from_max = SIGRTMAX - sig;
        return from_max == 0 ? "SIGRTMAX" : "SIGRTMAX-" + std::to_string(from_max);
    }
    const char *abbrev = sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

}  // namespace ckpt
