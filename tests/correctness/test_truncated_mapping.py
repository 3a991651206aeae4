#!/usr/bin/python3
"""Issue 9, item 6: a file mapping that reaches past the end of its file must not kill the
program at a checkpoint.

truncmap maps a 16-page file MAP_SHARED and MAP_PRIVATE, truncates it to one page and deletes
it: the 15 pages past the end raise SIGBUS when touched. Its checkpoints must save the backed
page without touching the others (the program used to die of SIGBUS in the checkpoint
handler), and the program, killed twice and resumed, must finish with the output of an
uninterrupted run.
"""
import ckpt_harness


def body(h):
    h.kill_and_resume([h.program("truncmap"), "60", "50000"], job="truncmap", kills=2)


ckpt_harness.main("truncated_mapping", body)
