#include "settings.h"

#include <stdlib.h>

namespace ckpt::persist {

Settings g_cfg;

namespace {
bool env_true(const char *v) { return v && (v[0] == '1' || v[0] == 'y' || v[0] == 'Y' || v[0] == 't' || v[0] == 'T'); }
}  // namespace

void load_settings()
{
    g_cfg.sync_undo = env_true(getenv("CKPT_SYNC_UNDO"));
    const char *pol = getenv("CKPT_ON_UNDO_FAILURE");
    g_cfg.proceed_on_failure = pol && pol[0] == 'p';
}

}  // namespace ckpt::persist
