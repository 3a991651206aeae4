// The exclusion decision, one copy for the runtime (inside wrappers: no allocation, no libc)
// and the launcher's recovery (undo.cpp): the built-in exclusions (/proc, /sys, /dev, the job
// directory), then the rules, the last rule that matches deciding (pathmatch.h).
#pragma once

#include <stddef.h>

#include "pathmatch.h"

namespace ckpt::exclusion {

struct Rule {
    const char *pattern;
    bool include;
};

// Is `path` the directory `prefix` or below it?
inline bool prefix_covers(const char *prefix, const char *path)
{
    size_t i = 0;
    for (; prefix[i]; ++i)
        if (path[i] != prefix[i]) return false;
    return i > 0 && (path[i] == 0 || path[i] == '/' || prefix[i - 1] == '/');
}

// `norm_path`: absolute and normalized (pathmatch::normalize). `job_dir`: normalized, or
// empty/relative (then not a built-in exclusion). `rules[i]` for i < n, oldest first.
template <typename RuleAt>
bool excluded(const char *norm_path, const char *job_dir, size_t n, RuleAt rule_at)
{
    if (prefix_covers("/proc", norm_path) || prefix_covers("/sys", norm_path) ||
        prefix_covers("/dev", norm_path))
        return true;
    if (job_dir && job_dir[0] == '/' && prefix_covers(job_dir, norm_path)) return true;
    for (size_t i = n; i-- > 0;) {
        const Rule r = rule_at(i);
        if (pathmatch::covers(r.pattern, norm_path)) return !r.include;
    }
    return false;
}

}  // namespace ckpt::exclusion
