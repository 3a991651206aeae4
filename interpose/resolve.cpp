#include <dlfcn.h>

#include "real.h"

namespace ckpt::interpose {

namespace {
__thread int t_resolving __attribute__((tls_model("initial-exec")));
}

void *next_symbol(const char *name)
{
    if (t_resolving) return nullptr;
    t_resolving = 1;
    void *p = dlsym(RTLD_NEXT, name);
    t_resolving = 0;
    return p;
}

}  // namespace ckpt::interpose
