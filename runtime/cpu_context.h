#pragma once

#include "image_format.h"

extern "C" {
// setjmp-style: saves the callee-saved registers, the stack pointer and the return address
// into *ctx and returns 0. When the restorer later jumps into ctx, it returns a second time,
// in the restored process, with 1.
__attribute__((returns_twice)) int ckpt_context_save(ckpt::image::CpuContext *ctx);
}
