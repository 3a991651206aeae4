"""What the descriptor tests share: running tests/programs/fdcase in a mode under ckpt-run,
with its control files (ready, go, ...) in a directory of the test's own."""
import os

import ckpt_harness
from ckpt_harness import check

# How long to wait for a refusal the runtime reports at its first checkpoints (200 ms apart).
REFUSAL_TIMEOUT = 30


class Case:
    def __init__(self, h, mode, job=None):
        self.h = h
        self.mode = mode
        self.job = job or mode
        self.dir = h.path(f"case-{self.job}")
        os.makedirs(self.dir, exist_ok=True)
        self.argv = [h.program("fdcase"), mode, self.dir]

    def file(self, name):
        return os.path.join(self.dir, name)

    def touch(self, name):
        with open(self.file(name), "w"):
            pass

    def wait_file(self, launcher, name):
        def there():
            if os.path.exists(self.file(name)):
                return True
            if launcher.poll() is not None:
                raise ckpt_harness.TestFailure(f"ckpt-run exited with {launcher.rc} before {name} existed; "
                                               f"log:\n{launcher.log_text()}")
            return None
        self.h.poll(there, f"fdcase {self.mode}: {name}")

    def start(self, out=None, **kw):
        return self.h.start(self.job, self.argv, out, **kw)

    def checkpoint_after_ready(self, launcher):
        """Waits for ready, then for a version committed after it; returns that version."""
        self.wait_file(launcher, "ready")
        before = self.h.versions(launcher.job_path)
        return self.h.wait_for_version_above(launcher, before[-1] if before else 0,
                                             f"a checkpoint of fdcase {self.mode} after its set-up")

    def refused(self, launcher, pattern, what):
        """Waits for the launcher's "checkpoint refused: ..." line matching pattern."""
        m = self.h.wait_for_log(launcher, r"checkpoint refused: [^\n]*" + pattern, what, timeout=REFUSAL_TIMEOUT)
        return m.group(0)

    def finish(self, launcher):
        """Lets the program go on and end; its exit status must be 0."""
        self.touch("go")
        rc = launcher.wait()
        check(rc == 0, f"fdcase {self.mode} ended with {rc}; log:\n{launcher.log_text()}")
