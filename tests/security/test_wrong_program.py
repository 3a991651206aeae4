#!/usr/bin/python3
"""Defect 8 of issue 8: `ckpt-run --name job -- counter`, killed, then `ckpt-run --name job --
/bin/echo hi` must not resume the counter. It refuses with exit 84 and a message that names
the command of the checkpoints and says how to start afresh (--fresh, ckptctl rm), touching
nothing; a different argument list is another command too. `--fresh` discards the checkpoints
(only ckpt's files) and starts the new command; the original command still resumes its own."""
import os

import ckpt_harness
from ckpt_harness import check, log
from security_common import tree_snapshot

EXIT_WRONG_PROGRAM = 84


def body(h):
    argv = [h.program("counter"), "30", "50000"]
    reference, _ = h.reference(argv)
    out = h.make_output()
    launcher = h.run_and_kill_after_checkpoints("job", argv, out)
    job = launcher.job_path
    images = h.images_snapshot(job)
    snap = tree_snapshot(job)
    out_before = ckpt_harness.read_bytes(out)

    for other in (["/bin/echo", "hi"], [h.program("counter"), "31", "50000"]):
        out2 = h.make_output("other.out")
        rc, err = h.run_to_exit("job", other, out2)
        check(rc == EXIT_WRONG_PROGRAM, f"{other}: exit {rc}, expected {EXIT_WRONG_PROGRAM}; log:\n{err}")
        check("--fresh" in err and "ckptctl rm" in err and "counter" in err,
              f"{other}: the message does not name the checkpoints' command or say how to start afresh: {err!r}")
        check(ckpt_harness.read_bytes(out2) == b"", f"{other}: something ran")
        check("restored from" not in err, f"{other}: it restored the counter")
        check(tree_snapshot(job) == snap and h.images_snapshot(job) == images,
              f"{other}: the job's checkpoints were changed")
        log(f"{other}: refused: {[l for l in err.splitlines() if 'error' in l][0]!r}")
    check(ckpt_harness.read_bytes(out) == out_before, "the counter's output was touched")

    # The original command resumes its own checkpoints.
    rc, err = h.run_to_exit("job", argv, out)
    check(rc == 0 and "restored from checkpoint version" in err, f"the counter did not resume ({rc}):\n{err}")
    check(ckpt_harness.read_bytes(out) == reference, "the resumed counter's output differs from the reference")

    # --fresh: another command over the killed job's checkpoints starts anew; a planted file in
    # the job directory that is not ckpt's is not the point here (see the jobdir tests).
    launcher = h.run_and_kill_after_checkpoints("job", argv, h.make_output("third.out"))
    out3 = h.make_output("echo.out")
    rc, err = h.run_to_exit("job", ["/bin/echo", "hi"], out3, extra=("--fresh",))
    check(rc == 0, f"--fresh: exit {rc}; log:\n{err}")
    check(ckpt_harness.read_bytes(out3) == b"hi\n", f"--fresh did not run the new command: {ckpt_harness.read_bytes(out3)!r}")
    check("restored from" not in err, "--fresh restored the old checkpoints")
    check(not os.path.exists(job) or h.versions(job) == [], "--fresh left the old checkpoints")
    log("--fresh: old checkpoints discarded, new command ran")


ckpt_harness.main("wrong_program", body)
