#include "internal_env.h"

#include <cstdlib>

namespace ckpt {
namespace {

constexpr const char *kInternal[] = {"CKPT_JOB_DIR",  "CKPT_STATUS_FD", "CKPT_LAUNCHER_PID",  "CKPT_RESTORER",
                                     "CKPT_COMMAND_ID", "CKPT_PROTECTED", "CKPT_ROLLBACK_VALUE",
                                     "CKPT_RESTORE_HANDSHAKE"};
constexpr const char *kOptionTwins[] = {"CKPT_SIGNAL",          "CKPT_COMPRESS",    "CKPT_EXCLUDE",   "CKPT_SYNC_UNDO",
                                        "CKPT_ON_UNDO_FAILURE", "CKPT_INCREMENTAL", "CKPT_FULL_EVERY",
                                        "CKPT_LAZY"};

bool names(const std::string &kv, const char *name)
{
    const std::string n = name;
    return kv.size() > n.size() && kv.compare(0, n.size(), n) == 0 && kv[n.size()] == '=';
}

}  // namespace

std::vector<std::string> scrub_internal_environment()
{
    std::vector<std::string> removed;
    for (const char *n : kInternal)
        if (std::getenv(n)) {
            ::unsetenv(n);
            removed.emplace_back(n);
        }
    return removed;
}

bool is_launcher_variable(const std::string &kv)
{
    for (const char *n : kInternal)
        if (names(kv, n)) return true;
    for (const char *n : kOptionTwins)
        if (names(kv, n)) return true;
    return false;
}

}  // namespace ckpt
