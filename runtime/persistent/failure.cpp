#include "failure.h"

#include "../runtime_state.h"
#include "../text.h"
#include "pct_log.h"
#include "settings.h"

namespace ckpt::persist {

void report_failure(const char *path, int err, bool proceeding)
{
    // The path's tail is the informative part; the message has 88 bytes.
    char msg[88];
    const size_t l = text::length(path);
    const char *tail = l > 70 ? path + l - 70 : path;
    text::Builder(msg, sizeof msg).add(l > 70 ? "..." : "").add(tail);
    report(StatusType::UndoFailure, err, g_log.epoch, proceeding ? 1 : 0, 0, 0, msg);
}

int fail(int err, FileState *f, const char *path)
{
    if (!err) return 0;
    const bool proceed = g_cfg.proceed_on_failure;
    if (!f || !(f->flags & kReported)) report_failure(path, err, proceed);
    if (f) f->flags |= kReported;
    if (!proceed) return err;
    if (f) f->flags |= kUnprotected | kAllCovered | kMetaDone;
    RecordArgs a{pct::Kind::Unprotected};
    a.path = path;
    a.err = err;
    emit(a);  // best effort: the log itself may be what failed
    return 0;
}

}  // namespace ckpt::persist
