// spdlog set-up shared by ckpt-run and ckptctl: to stderr, quiet by default (warnings and
// errors), -v for info, -vv for debug, -q for errors only; CKPT_LOG_LEVEL overrides.
#pragma once

#include <spdlog/spdlog.h>

namespace ckpt {

void setup_logging(const char *tool, int verbosity, bool quiet);

}  // namespace ckpt
