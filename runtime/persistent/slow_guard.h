// The slow path's entry: every path that may record runs with all signals blocked and under a
// spin lock, so it never nests into itself; the hot path only reads, validated by the mutation
// counter g_mut (odd while a slow path mutates the tracker).
#pragma once

#include <stdint.h>

namespace ckpt::persist {

extern uint64_t g_mut;
extern int g_pid;  // the process that records (set at start and after a restore)

class SlowGuard {
public:
    explicit SlowGuard(bool in_handler = false);
    ~SlowGuard();
    SlowGuard(const SlowGuard &) = delete;
    SlowGuard &operator=(const SlowGuard &) = delete;

private:
    bool handler_;
    uint64_t old_ = 0;
};

}  // namespace ckpt::persist
