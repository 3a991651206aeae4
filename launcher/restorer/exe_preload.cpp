// libckpt-restore-exe.so: the restorer, preloaded into the program's own executable by
// exe_link.cpp. Its constructor runs the restore before the program's main() (which must never
// run: the process becomes the checkpointed one, or ends with the restorer's exit code).
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "exe_link.h"

int ckpt_restorer_main(int argc, char **argv);

namespace {

__attribute__((constructor)) void restore_from_program_exe()
{
    const char *args = getenv(ckpt::restorer::kViaExeEnv);
    if (!args) _exit(70);  // preloaded by something else than the restorer: never run the program
    std::vector<std::string> parts{"ckpt-restore"};
    std::string cur;
    for (const char *p = args;; ++p) {
        if (*p == '\x1f' || *p == 0) {
            parts.push_back(cur);
            cur.clear();
            if (!*p) break;
        } else {
            cur += *p;
        }
    }
    unsetenv(ckpt::restorer::kViaExeEnv);
    unsetenv("LD_PRELOAD");
    std::vector<char *> argv;
    for (auto &s : parts) argv.push_back(s.data());
    argv.push_back(nullptr);
    _exit(ckpt_restorer_main(int(parts.size()), argv.data()));
}

}  // namespace
