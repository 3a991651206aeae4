#!/usr/bin/python3
"""Issue 9, item 7 (descriptors): a program that tidies its descriptors (closefrom(3),
close_range(3, ~0U), dup2 onto 1000 and 1001 then close, close() of every number up to 2000)
must not cut ckpt's status socket or the job's lock: its checkpoints still reach the launcher
(the status file shows new versions), --retain is still enforced, and the program sees none
of ckpt's descriptors, as without ckpt.
"""
import ckpt_harness
from ckpt_harness import check, log

RETAIN = 2


def body(h):
    for mode in ("closefrom", "close_range", "dup2", "close"):
        argv = [h.program("closefd"), mode, "50", "50000"]
        out = h.make_output(f"{mode}.out")
        launcher = h.start(mode, argv, out, interval="100ms", extra=("--retain", str(RETAIN)))

        def reported():
            st = h.read_status(launcher.job_path)
            if launcher.poll() is not None:
                raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc} before 5 checkpoints "
                                               f"were reported (status {st}); log:\n{launcher.log_text()}")
            return int(st.get("last_version", "0")) >= 5 and int(st.get("checkpoints", "0")) >= 5
        h.poll(reported, f"closefd {mode}: 5 checkpoints reported to the launcher")

        def retained():
            vs = h.versions(launcher.job_path)
            return vs if 0 < len(vs) <= RETAIN else None
        vs = h.poll(retained, f"closefd {mode}: at most {RETAIN} versions kept")
        rc = launcher.wait()
        text = ckpt_harness.read_bytes(out).decode(errors="replace")
        check(rc == 0, f"closefd {mode} exited with {rc}; log:\n{launcher.log_text()}")
        check(text.endswith("0 descriptors above 2 visible\n"),
              f"closefd {mode} saw descriptors it did not open: {text[-60:]!r}")
        log(f"{mode}: checkpoints reported after it, versions kept {vs}, no descriptor of ckpt visible")


ckpt_harness.main("closed_status_descriptor", body)
