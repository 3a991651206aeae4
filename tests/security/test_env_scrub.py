#!/usr/bin/python3
"""Defect 9 of issue 8 (internal variables): the CKPT_* variables that only ckpt sets for its
own processes (CKPT_PROTECTED, CKPT_ROLLBACK_VALUE, CKPT_JOB_DIR, CKPT_STATUS_FD, ...) are
never taken from the environment. An inherited CKPT_PROTECTED made a recovery read and delete
the file it named; now ckpt-run warns that it ignores them, the victim file is untouched, and
the recovery resumes the job exactly. User-facing variables (CKPT_INTERVAL) still work."""
import os

import ckpt_harness
from ckpt_harness import check, log
from security_common import tree_snapshot


def body(h):
    argv = [h.program("counter"), "30", "50000"]
    reference, _ = h.reference(argv)
    out = h.make_output()
    h.run_and_kill_after_checkpoints("job", argv, out)
    victims = h.path("victims")
    os.makedirs(victims)
    victim = os.path.join(victims, "precious")
    with open(victim, "wb") as f:
        f.write(b"\x08" * 64 + b"precious data\n")
    os.chmod(victim, 0o640)
    before = tree_snapshot(victims)
    planted = {
        "CKPT_PROTECTED": victim,
        "CKPT_ROLLBACK_VALUE": "7",
        "CKPT_JOB_DIR": victims,
        "CKPT_STATUS_FD": "2",
        "CKPT_LAUNCHER_PID": "1",
        "CKPT_RESTORER": "/bin/false",
        "CKPT_COMMAND_ID": "0123456789abcdef",
        "CKPT_INTERVAL": "150ms",  # user-facing: honoured
    }
    saved = dict(h.env)
    h.env.update(planted)
    try:
        rc, err = h.run_to_exit("job", argv, out)
    finally:
        h.env.clear()
        h.env.update(saved)
    check(rc == 0, f"the recovery exited with {rc}; log:\n{err}")
    check("restored from checkpoint version" in err, f"the job was not resumed; log:\n{err}")
    check(tree_snapshot(victims) == before, "the file named by CKPT_PROTECTED (or its directory) was changed")
    check(ckpt_harness.read_bytes(out) == reference, "the resumed output differs from the reference")
    for name in planted:
        if name != "CKPT_INTERVAL":
            check(f"ignoring {name} from the environment" in err, f"no warning that {name} is ignored; log:\n{err}")
    check("ignoring CKPT_INTERVAL" not in err, "the user-facing CKPT_INTERVAL was dropped")
    log("internal variables ignored with a warning; victim untouched; resumed exactly")


ckpt_harness.main("env_scrub", body)
