// The wrappers' sections (persist.h): deferral of a checkpoint signal that arrives inside one.
#include "persist.h"

#include "../runtime_state.h"
#include "../sys/raw_syscall.h"
#include "../threads.h"

namespace ckpt::persist {

int g_enabled = 0;
__thread Sections t_sections __attribute__((tls_model("initial-exec")));

namespace {
constexpr int kSsOnStack = 1;  // SS_ONSTACK
struct StackT {
    void *sp;
    int flags;
    size_t size;
};
}  // namespace

void drop_stale_sections(uintptr_t here, bool inclusive)
{
    StackT ss{};
    if (sys_sigaltstack(nullptr, &ss) == 0 && (ss.flags & kSsOnStack)) return;
    const uintptr_t alt_lo = reinterpret_cast<uintptr_t>(ss.sp), alt_hi = alt_lo + ss.size;
    Sections &t = t_sections;
    int depth = __atomic_load_n(&t.busy, __ATOMIC_SEQ_CST);
    if (depth > kMaxSectionDepth) depth = kMaxSectionDepth;
    for (int k = 0; k < depth; ++k) {
        const uintptr_t sp = __atomic_load_n(&t.sp[k], __ATOMIC_SEQ_CST);
        if (sp == 0) continue;
        // We run on the ordinary stack: a section on the alternate stack has ended.
        const bool on_alt = !(ss.flags & 2 /* SS_DISABLE */) && ss.size && sp >= alt_lo && sp < alt_hi;
        if (on_alt || sp < here || (inclusive && sp == here)) {
            for (int j = k; j < kMaxSectionDepth; ++j) __atomic_store_n(&t.sp[j], uintptr_t(0), __ATOMIC_SEQ_CST);
            __atomic_store_n(&t.busy, k, __ATOMIC_SEQ_CST);
            return;
        }
    }
}

bool defer_to_section_end()
{
    Sections &t = t_sections;
    if (__atomic_load_n(&t.busy, __ATOMIC_SEQ_CST) > 0) {
        // Sections deeper than this handler's frame are gone (a siglongjmp left them).
        char here;
        drop_stale_sections(reinterpret_cast<uintptr_t>(&here), false);
    }
    if (__atomic_load_n(&t.busy, __ATOMIC_SEQ_CST) == 0) return false;
    __atomic_store_n(&t.pending, 1, __ATOMIC_SEQ_CST);
    return true;
}

void reraise_checkpoint()
{
    if (!__atomic_exchange_n(&t_sections.pending, 0, __ATOMIC_SEQ_CST)) return;
    // Another thread's checkpoint waits for this one to stop: its stop request again.
    if (threads::stop_owed()) return;
    if (g_rt.active && g_rt.signal > 0) sys_tgkill(int(sys_getpid()), int(sys_gettid()), g_rt.signal);
}

}  // namespace ckpt::persist
