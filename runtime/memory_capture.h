// Memory: every mapping of /proc/self/maps becomes a RegionRecord; the pages that hold state
// (populated anonymous pages, copy-on-write pages of file mappings) become PageRuns whose
// contents image_writer copies into the image. Read-only file pages are kept by reference.
// The other half, mapping regions back, is the restorer's (launcher/restorer/).
#pragma once

#include "capture_set.h"

namespace ckpt {

// `skip_begin..skip_end` is left out (the capture arena itself).
CaptureError capture_memory(CaptureSet &set, uintptr_t skip_begin, uintptr_t skip_end);

}  // namespace ckpt
