#!/usr/bin/python3
"""Issue 9, item 10: descriptors made by dup() share one open file description, and so one
offset. After a kill and a restore they must still share it: a write through one descriptor
moves the other's offset too (pos1 == pos2 == 6), as it does without ckpt."""
import json
import subprocess

import ckpt_harness
from ckpt_harness import check, log
from fdcase_common import Case
from security_common import ckptctl


def body(h):
    case = Case(h, "dup")
    out = h.make_output()
    launcher = case.start(out)
    v = case.checkpoint_after_ready(launcher)
    log(f"checkpoint version {v} holds fd and its dup")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill")
    # The image says which descriptor shares which one's open file description.
    image = h.image_path(launcher.job_path, h.versions(launcher.job_path)[-1])
    r = subprocess.run([ckptctl(h), "inspect", "--json", image], capture_output=True, text=True)
    check(r.returncode == 0, f"ckptctl inspect failed ({r.returncode}): {r.stderr}")
    fds = {f["fd"]: f for f in json.loads(r.stdout)["fds"]}
    check(fds.get(3, {}).get("shares_with", "absent") is None and fds.get(4, {}).get("shares_with") == 3,
          f"ckptctl inspect does not show fd 4 sharing fd 3's open file description: {fds}")
    case.touch("go")
    rc, err = h.run_to_exit(case.job, case.argv, out)
    check(rc == 0 and "restored from checkpoint version" in err, f"the program did not resume ({rc}):\n{err}")
    text = ckpt_harness.read_bytes(out).decode()
    check(text == "pos1=6 pos2=6\n", f"after the restore the dup'd descriptors do not share their offset: {text!r}")
    log(f"restored: {text.strip()}")


ckpt_harness.main("fd_dup_offset", body)
