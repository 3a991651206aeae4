// Where the launcher's companions are: found relative to the running executable, so that the
// build tree (build/bin, build/lib, build/libexec) and an install prefix both work.
#pragma once

#include <string>

namespace ckpt {

std::string self_dir();
std::string find_runtime_library();  // libckpt.so
std::string find_restorer();         // ckpt-restore

}  // namespace ckpt
