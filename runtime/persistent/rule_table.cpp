#include "rule_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>

#include "../runtime_state.h"
#include "../sys/raw_syscall.h"
#include "../text.h"
#include "exclusion.h"
#include "fd_cache.h"
#include "pathmatch.h"
#include "paths.h"
#include "pct_log.h"
#include "persist.h"
#include "slow_guard.h"

namespace ckpt::persist {

namespace {

constexpr int kMaxRules = 512;
constexpr size_t kRuleText = 64 * 1024;
struct Rule {
    uint32_t off;
    bool include;
};
Rule g_rules[kMaxRules];
int g_n_rules = 0;
char g_rule_text[kRuleText];
size_t g_rule_used = 0;

}  // namespace

bool excluded(const char *norm_path)
{
    return exclusion::excluded(norm_path, g_rt.job_dir, size_t(g_n_rules), [](size_t i) {
        return exclusion::Rule{g_rule_text + g_rules[i].off, g_rules[i].include};
    });
}

int add_rule_locked(const char *text_in, size_t n, bool include)
{
    if (n == 0) return -EINVAL;
    if (g_n_rules == kMaxRules || g_rule_used + n + 1 > kRuleText) return -ENOMEM;
    char *dst = g_rule_text + g_rule_used;
    for (size_t i = 0; i < n; ++i) dst[i] = text_in[i];
    dst[n] = 0;
    g_rules[g_n_rules++] = {uint32_t(g_rule_used), include};
    g_rule_used += n + 1;
    return 0;
}

void load_rules()
{
    if (const char *ex = getenv("CKPT_EXCLUDE")) {
        // Colon-separated; the launcher has made paths absolute already.
        const char *s = ex;
        while (*s) {
            const char *e = s;
            while (*e && *e != ':') ++e;
            if (e > s) add_rule_locked(s, size_t(e - s), false);
            s = *e ? e + 1 : e;
        }
    }
}

int add_rule(const char *path, bool include)
{
    if (!path || !*path) return -EINVAL;
    SlowGuard g;
    if (enabled() && sys_getpid() != g_pid) return -EPERM;  // a vfork() child shares our table
    char *buf = g_tmp;
    if (pathmatch::has_slash(path)) {
        if (!absolute(AT_FDCWD, path, buf, sizeof g_tmp)) return -ENAMETOOLONG;
        pathmatch::normalize(buf);
    } else {
        text::Builder b(buf, sizeof g_tmp);
        b.add(path);
        if (b.overflow()) return -ENAMETOOLONG;
    }
    int r = add_rule_locked(buf, text::length(buf), include);
    if (r) return r;
    forget_all_fds();  // descriptors are classified again
    if (enabled() && sys_getpid() == g_pid && ensure_buf() == 0) {
        // Recovery skips what this epoch recorded for paths excluded during it.
        RecordArgs a{include ? pct::Kind::Include : pct::Kind::Exclude};
        text::Builder(g_path, sizeof g_path).add(buf);
        a.path = g_path;
        emit(a);
    }
    return 0;
}

}  // namespace ckpt::persist

// ---- exported API ----------------------------------------------------------------------------

extern "C" __attribute__((visibility("default"))) int ckpt_exclude(const char *path)
{
    int r = ckpt::persist::add_rule(path, false);
    if (r < 0) { errno = -r; return -1; }
    return 0;
}

extern "C" __attribute__((visibility("default"))) int ckpt_include(const char *path)
{
    int r = ckpt::persist::add_rule(path, true);
    if (r < 0) { errno = -r; return -1; }
    return 0;
}
