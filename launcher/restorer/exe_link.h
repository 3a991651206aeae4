// /proc/PID/exe of the restored process. The kernel lets a process point it elsewhere
// (PR_SET_MM_MAP's exe_fd) only with CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN. Without them the
// restore is performed by a process exec'd from the program's own executable, with the
// restorer preloaded (libckpt-restore-exe.so, exe_preload.cpp): the kernel then shows that
// executable as /proc/PID/exe by itself, and the same pid is restored.
#pragma once

#include <string>

#include "image_reader.h"

namespace ckpt::restorer {

// The environment variable that carries the restorer's arguments through that exec.
inline constexpr const char *kViaExeEnv = "CKPT_RESTORE_VIA_EXE";

// Whether this process may set its exe link (capability check, as the kernel makes it).
bool can_set_exe_link();

// Whether this process already runs `exe` (same device and inode).
bool runs_exe(const std::string &exe);

// Execs `exe` (the program's executable as the image records it) with the restorer preloaded
// and `argv` (the restorer's own arguments) handed over. Only when it is safe: `exe` is the
// file the image maps (device, inode), a regular file without set-user/group-ID bits or file
// capabilities (the dynamic linker would ignore the preload and run the program afresh).
// Returns only if it did not exec, with the reason in `why`.
void restore_through_exe(const Image &img, const std::string &exe, int argc, char **argv, std::string &why);

}  // namespace ckpt::restorer
