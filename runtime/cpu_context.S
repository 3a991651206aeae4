/* int ckpt_context_save(CpuContext *ctx)  -- see cpu_context.h and image_format.h for layout.
 * The restorer's resume sequence (launcher/restorer/blob.c) is the other half. */
    .text
    .globl ckpt_context_save
    .hidden ckpt_context_save
    .type ckpt_context_save, @function
ckpt_context_save:
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rdx
    movq %rdx, 48(%rdi)
    movq (%rsp), %rdx
    movq %rdx, 56(%rdi)
    stmxcsr 64(%rdi)
    fnstcw 68(%rdi)
    xorl %eax, %eax
    ret
    .size ckpt_context_save, .-ckpt_context_save
    .section .note.GNU-stack,"",@progbits
