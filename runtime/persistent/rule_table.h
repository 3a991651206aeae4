// The runtime's exclusion rules: CKPT_EXCLUDE at start, then ckpt_exclude()/ckpt_include() at
// run time, in static storage (wrappers may not allocate). The decision is exclusion.h's, the
// same code the recovery uses.
#pragma once

#include <stddef.h>

namespace ckpt::persist {

// Is the absolute, normalized path excluded (built-ins, then the rules)?
bool excluded(const char *norm_path);
// Appends a rule (text not NUL-terminated). 0 or -errno.
int add_rule_locked(const char *text, size_t n, bool include);
void load_rules();  // CKPT_EXCLUDE: colon-separated, made absolute by the launcher
// add_rule() (run-time rules, exported as ckpt_exclude / ckpt_include) is in persist.h.

}  // namespace ckpt::persist
