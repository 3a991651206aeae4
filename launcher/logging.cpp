#include "logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>

namespace ckpt {

void setup_logging(const char *tool, int verbosity, bool quiet)
{
    auto logger = spdlog::stderr_logger_st(tool);
    spdlog::set_default_logger(logger);
    spdlog::set_pattern(std::string(tool) + ": %l: %v");
    spdlog::level::level_enum level = spdlog::level::warn;
    if (quiet) level = spdlog::level::err;
    if (verbosity == 1) level = spdlog::level::info;
    if (verbosity >= 2) level = spdlog::level::debug;
    if (const char *env = std::getenv("CKPT_LOG_LEVEL"); env && *env && verbosity == 0 && !quiet)
        level = spdlog::level::from_str(env);
    spdlog::set_level(level);
}

}  // namespace ckpt
