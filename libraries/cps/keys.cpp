// The key layout (see keys.h).
#include "keys.h"

#include <cstdlib>

namespace cps {

std::string key_prefix()
{
    const char *p = std::getenv("CKPT_CPS_PREFIX");
    std::string s = p && *p ? p : "/ckpt/cps/";
    if (s.back() != '/') s += '/';
    return s;
}

std::string section_key(const std::string &instance, const std::string &section_id)
{
    if (section_id.empty()) return sections_prefix(instance) + "d";
    static const char hex[] = "0123456789abcdef";
    std::string k = sections_prefix(instance) + "x";
    for (unsigned char c : section_id) {
        k += hex[c >> 4];
        k += hex[c & 15];
    }
    return k;
}

bool section_id_of(const std::string &key, std::string *section_id)
{
    const size_t slash = key.rfind('/');
    if (slash == std::string::npos || key.compare(slash - 3, 4, "sec/") != 0) return false;
    const std::string tail = key.substr(slash + 1);
    section_id->clear();
    if (tail == "d") return true;
    if (tail.empty() || tail[0] != 'x' || tail.size() % 2 == 0) return false;
    auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (size_t i = 1; i + 1 < tail.size(); i += 2) *section_id += char(nib(tail[i]) << 4 | nib(tail[i + 1]));
    return true;
}

}  // namespace cps
