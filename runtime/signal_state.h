// Signal state: every disposition (the kernel's own sigaction records, so the restorer can
// hand them back unchanged), the alternate stack, and the mask in force in the handler. The
// restorer reinstalls them (launcher/restorer/blob.c); the interrupted mask lives in the
// kernel's signal frame on the saved stack and comes back with rt_sigreturn.
#pragma once

#include "capture_set.h"

namespace ckpt {

CaptureError capture_signals(CaptureSet &set);

}  // namespace ckpt
