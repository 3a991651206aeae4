"""What the descriptor-kind tests (issue 10) share: a tests/programs/fd_KIND program sets up
its descriptors, creates DIR/ready, waits for DIR/go, then checks from inside that they behave
as before and prints one "ok ..." line per check. It is run once without ckpt (the reference,
go created beforehand), then under ckpt-run: after a checkpoint committed after its set-up it
is SIGKILLed, go is created, and the same command restores it. The restored run must print
exactly what the reference printed, every check "ok"."""
import json
import os
import subprocess

import ckpt_harness
from ckpt_harness import check, log
from security_common import ckptctl


def run_kind(h, program, expected_checks, inspect_words=()):
    """Runs tests/programs/PROGRAM both ways; expected_checks: how many "ok" lines.
    inspect_words: texts `ckptctl inspect` must show for the image (what the record holds)."""
    ref_dir = h.path("reference")
    os.makedirs(ref_dir, exist_ok=True)
    open(os.path.join(ref_dir, "go"), "w").close()
    reference, _ = h.reference([h.program(program), ref_dir])
    lines = reference.decode().splitlines()
    check(len(lines) == expected_checks and all(l.startswith("ok ") for l in lines),
          f"the reference run (without ckpt) did not pass its own checks:\n{reference.decode()}")

    case_dir = h.path("case")
    os.makedirs(case_dir, exist_ok=True)
    argv = [h.program(program), case_dir]
    out = h.make_output()
    launcher = h.start(program, argv, out)

    def ready():
        if os.path.exists(os.path.join(case_dir, "ready")):
            return True
        if launcher.poll() is not None:
            raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc} before the set-up was done; "
                                           f"log:\n{launcher.log_text()}")
        return None
    h.poll(ready, f"{program}: its set-up")
    before = h.versions(launcher.job_path)
    v = h.wait_for_version_above(launcher, before[-1] if before else 0,
                                 f"a checkpoint of {program} after its set-up (log:\n{launcher.log_text()})")
    log(f"checkpoint version {v} holds the descriptors")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill")
    image = h.image_path(launcher.job_path, h.versions(launcher.job_path)[-1])
    r = subprocess.run([ckptctl(h), "inspect", image], capture_output=True, text=True)
    check(r.returncode == 0, f"ckptctl inspect failed ({r.returncode}): {r.stderr}")
    for word in inspect_words:
        check(word in r.stdout, f"ckptctl inspect does not show {word!r}:\n{r.stdout}")
    open(os.path.join(case_dir, "go"), "w").close()
    rc, err = h.run_to_exit(program, argv, out)
    actual = ckpt_harness.read_bytes(out)
    check("restored from checkpoint version" in err, f"the program did not resume from the checkpoint:\n{err}")
    check(actual == reference, f"after the restore {program} printed something else (exit {rc}):\n"
          + ckpt_harness.describe_difference(reference, actual) + f"\nlog:\n{err}")
    check(rc == 0, f"{program} ended with {rc} after the restore; log:\n{err}")
    log(f"restored; all {expected_checks} checks as in the reference run:\n{actual.decode()}")
    return r.stdout


def inspect_json(h, image):
    r = subprocess.run([ckptctl(h), "inspect", "--json", image], capture_output=True, text=True)
    check(r.returncode == 0, f"ckptctl inspect --json failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)
