// The wrappers' sections (persist.h): deferral of a checkpoint signal that arrives inside one.
#include "persist.h"

#include "../runtime_state.h"
#include "../sys/raw_syscall.h"

namespace ckpt::persist {

int g_enabled = 0;
int g_busy = 0;
int g_pending = 0;

void reraise_checkpoint()
{
    if (!__atomic_exchange_n(&g_pending, 0, __ATOMIC_SEQ_CST)) return;
    if (g_rt.active && g_rt.signal > 0) sys_tgkill(int(sys_getpid()), int(sys_gettid()), g_rt.signal);
}

}  // namespace ckpt::persist
