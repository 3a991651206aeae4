#include "fd_cache.h"

namespace ckpt::persist {

FdEntry g_fds[kMaxFd];
uint32_t g_gen = 1;

}  // namespace ckpt::persist
