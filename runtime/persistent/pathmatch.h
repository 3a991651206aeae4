// Exclusion rules, shared by the runtime (inside wrappers: no allocation, no locale, no libc)
// and the launcher's recovery. A rule is a pattern plus "exclude" or "include"; the last rule
// that matches a path decides (like .gitignore), and a path matches a pattern if the pattern
// matches the path itself or any directory above it, so an excluded directory covers what is
// below it.
//   - pattern with a '/': matched against the absolute path ('*' and '?' stop at '/');
//   - pattern without '/': matched against each path component (e.g. "*.log", "cache").
// Glob syntax: * ? [abc] [a-z] [!x], backslash escapes.
#pragma once

#include <stddef.h>

namespace ckpt::pathmatch {

// Matches [p, pe) against [s, se); '*' and '?' never match '/'.
inline bool glob(const char *p, const char *pe, const char *s, const char *se)
{
    const char *star_p = nullptr, *star_s = nullptr;
    while (s < se) {
        if (p < pe && *p == '*') {
            while (p < pe && *p == '*') ++p;
            star_p = p;
            star_s = s;
            continue;
        }
        if (p < pe) {
            bool ok = false;
            const char *np = p + 1;
            if (*p == '?') {
                ok = *s != '/';
            } else if (*p == '[') {
                const char *q = p + 1;
                bool neg = false;
                if (q < pe && (*q == '!' || *q == '^')) neg = true, ++q;
                bool found = false, closed = false;
                bool first = true;
                while (q < pe) {
                    if (*q == ']' && !first) { closed = true; break; }
                    first = false;
                    char lo = *q;
                    if (lo == '\\' && q + 1 < pe) lo = *++q;
                    char hi = lo;
                    if (q + 2 < pe && q[1] == '-' && q[2] != ']') {
                        hi = q[2];
                        q += 2;
                        if (hi == '\\' && q + 1 < pe) hi = *++q;
                    }
                    if (*s >= lo && *s <= hi) found = true;
                    ++q;
                }
                if (closed) {
                    ok = *s != '/' && found != neg;
                    np = q + 1;
                } else {
                    ok = *s == '[';  // unterminated: a literal '['
                }
            } else if (*p == '\\' && p + 1 < pe) {
                ok = *s == p[1];
                np = p + 2;
            } else {
                ok = *s == *p;
            }
            if (ok) {
                p = np;
                ++s;
                continue;
            }
        }
        // Backtrack: let the last '*' absorb one more character (never a '/').
        if (!star_p || *star_s == '/') return false;
        ++star_s;
        s = star_s;
        p = star_p;
    }
    while (p < pe && *p == '*') ++p;
    return p == pe;
}

inline size_t len(const char *s)
{
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

inline bool has_slash(const char *p)
{
    for (; *p; ++p)
        if (*p == '/') return true;
    return false;
}

// Does `pattern` cover the absolute, normalized `path` (the path or a directory above it)?
inline bool covers(const char *pattern, const char *path)
{
    const size_t pl = len(pattern), sl = len(path);
    if (pl == 0) return false;
    if (has_slash(pattern)) {
        const char *pe = pattern + pl;
        while (pe > pattern + 1 && pe[-1] == '/') --pe;  // "dir/" == "dir"
        // Every prefix of path that ends at a component boundary.
        for (size_t i = 1; i <= sl; ++i) {
            if (i < sl && path[i] != '/') continue;
            if (glob(pattern, pe, path, path + i)) return true;
        }
        return false;
    }
    // Component pattern: any component of the path.
    size_t start = 0;
    while (start < sl) {
        while (start < sl && path[start] == '/') ++start;
        size_t end = start;
        while (end < sl && path[end] != '/') ++end;
        if (end > start && glob(pattern, pattern + pl, path + start, path + end)) return true;
        start = end;
    }
    return false;
}

// Lexical normalization of an absolute path: collapses "//", "/./" and "x/.." (in place).
inline void normalize(char *path)
{
    size_t n = len(path), w = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && path[i] == '/') ++i;
        size_t j = i;
        while (j < n && path[j] != '/') ++j;
        size_t cl = j - i;
        if (cl == 0) break;
        if (cl == 1 && path[i] == '.') {
        } else if (cl == 2 && path[i] == '.' && path[i + 1] == '.') {
            while (w > 0 && path[w - 1] != '/') --w;
            if (w > 0) --w;
        } else {
            path[w++] = '/';
            for (size_t k = i; k < j; ++k) path[w++] = path[k];
        }
        i = j;
    }
    if (w == 0) path[w++] = '/';
    path[w] = 0;
}

}  // namespace ckpt::pathmatch
