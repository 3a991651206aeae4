#!/usr/bin/python3
"""A program that crashes every time right after its restart makes ckpt-run --watchdog give
up after --max-restarts, with a clear message and the program's last failure (SIGSEGV: 139)
as exit status; the last good checkpoints are still there, and still restore."""
import ckpt_harness
import watchdog_common as wd
from ckpt_harness import check, log


def body(h):
    steps = 200
    argv = [wd.flaky(h), str(steps), "from", "40"]
    launcher = h.start("job", argv, None, interval="100ms",
                       extra=["--watchdog", "--max-restarts", "3", "--backoff", "10ms"])
    rc = launcher.wait(120)
    text = launcher.log_text()
    check(rc == 128 + 11, f"expected exit status 139 (SIGSEGV), got {rc}; log:\n{text}")
    check("giving up on job job: 3 restarts" in text and "last failure: killed by SIGSEGV" in text,
          f"no clear give-up message:\n{text}")
    check(wd.restarts_logged(text) == [1, 2, 3], f"expected restarts 1, 2, 3:\n{text}")
    versions = h.versions(launcher.job_path)
    check(versions, "the checkpoints were lost")
    before = h.images_snapshot(launcher.job_path)
    # The images left behind are intact: a verify passes.
    import subprocess
    r = subprocess.run([wd.ckptctl(h), "--dir", h.path("ckpt"), "verify", "job"], capture_output=True, text=True)
    check(r.returncode == 0, f"ckptctl verify after giving up: {r.returncode}\n{r.stdout}{r.stderr}")
    check(h.images_snapshot(launcher.job_path) == before, "verify changed the images")
    log(f"gave up after 3 restarts with exit 139; versions {versions} kept and verified")


ckpt_harness.main("watchdog_give_up", body)
