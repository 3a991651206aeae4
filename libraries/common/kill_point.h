// Test hook for the crash tests: a named point inside a save, a cp_check or a dataset write
// where the process kills itself with SIGKILL, so that a test can tear an operation at an exact
// place rather than by luck. Armed only by the environment of a test:
//   CKP_TEST_KILL_POINT=NAME  CKP_TEST_KILL_AFTER=N   (SIGKILL at the Nth time NAME is reached)
// Unset (the normal case) it costs one cached getenv.
#pragma once

namespace ckp {

// True when the process is to die at this point now; the caller may first do a partial write
// (to tear its operation) and then calls die_here().
bool kill_point(const char *name);
[[noreturn]] void die_here();

}  // namespace ckp
