// prctl(PR_SET_PDEATHSIG / PR_GET_PDEATHSIG): under a launcher the kernel's parent-death
// signal is ckpt's (the launcher's death is a checkpoint request, launcher_link.cpp), so the
// program's own value is kept by the process-attributes module and shown back to it; it is
// saved in every image and restored with it. Every other option goes to the kernel.
#include <stdarg.h>
#include <sys/prctl.h>

#include "../runtime/process_attrs.h"
#include "../runtime/runtime_state.h"
#include "real.h"

using namespace ckpt;

namespace {

// Only in the launcher's own child: a process the program forks (a worker that wants to die
// with its parent) inherits the runtime's state but has the program as its parent, and its
// parent-death signal is its own, the kernel's.
bool ckpt_owns_pdeathsig()
{
    return g_rt.active && g_rt.status_fd >= 0 && !g_rt.passive && g_rt.launcher_pid > 0 &&
           sys_getppid() == g_rt.launcher_pid;
}

}  // namespace

CKPT_EXPORT int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    const unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                        a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    if (ckpt_owns_pdeathsig() && option == PR_SET_PDEATHSIG) {
        if (a2 > 64) {
            errno = EINVAL;
            return -1;
        }
        attrs::set_program_pdeathsig(int(a2));
        return 0;
    }
    if (ckpt_owns_pdeathsig() && option == PR_GET_PDEATHSIG) {
        int *out = reinterpret_cast<int *>(a2);
        *out = attrs::program_pdeathsig();
        return 0;
    }
    return int(interpose::raw_result(sys_prctl(option, a2, a3, a4, a5)));
}
