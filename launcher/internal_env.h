// The CKPT_* environment variables that carry ckpt's own settings from the launcher to the
// runtime in the program and to the restorer. Only the launcher sets them, for the processes
// it starts: a value inherited from outside (a user's shell, a parent job) is never trusted.
// An inherited CKPT_PROTECTED, for one, made a recovery read and delete the file it named.
//
//   internal only:   CKPT_JOB_DIR, CKPT_STATUS_FD, CKPT_LAUNCHER_PID, CKPT_RESTORER,
//                    CKPT_COMMAND_ID (runtime); CKPT_PROTECTED, CKPT_ROLLBACK_VALUE (restorer,
//                    set by rollback() itself)
//   option twins:    CKPT_SIGNAL, CKPT_COMPRESS, CKPT_EXCLUDE, CKPT_SYNC_UNDO, CKPT_ON_UNDO_FAILURE,
//                    CKPT_INCREMENTAL, CKPT_FULL_EVERY are
//                    ckpt-run options read from the environment, which the launcher then sets
//                    for the program with the values it decided on
//   user-facing:     everything else (CKPT_NAME, CKPT_DIR, CKPT_INTERVAL, CKPT_KEEP,
//                    CKPT_PERSIST, CKPT_LOG_LEVEL, ...) passes through unchanged
#pragma once

#include <string>
#include <vector>

namespace ckpt {

// Removes the internal-only variables from this process's environment (after the options were
// parsed); returns the names removed, for a warning.
std::vector<std::string> scrub_internal_environment();

// Whether NAME=VALUE is one of the variables above that the launcher sets itself for the
// program (internal or option twin): the inherited value is dropped.
bool is_launcher_variable(const std::string &name_value);

}  // namespace ckpt
