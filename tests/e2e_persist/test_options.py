"""Exclusions (command line and environment), restore-time table changes (--no-undo,
--replace-file) and --on-undo-failure (fail and proceed, with a full tmpfs)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from persist_e2e import *  # noqa

SCRIPT = os.path.join(HERE, "py_opts.py")
UNDO_FAIL = os.path.join(BUILD, "tests", "e2e_persist", "persist_undo_fail")


def read(p):
    with open(p, "rb") as f:
        return f.read()


class Options(PersistTest):
    mode = []

    def crash_and_resume(self, first_opts, second_opts=None, env=None, env2=None):
        """Runs py_opts.py, kills it once it wrote ten lines after its first checkpoint, restarts it and returns
        (log, data) at the kill and (log, data) right after the recovery."""
        d = os.path.join(self.tmp, "d")
        snap = os.path.join(self.tmp, "snap")
        os.makedirs(d)
        os.makedirs(snap)
        base = ["--dir", self.jobs, "--name", "o", "--interval", "1s", "-v", "--exclude", snap]
        cmd = ["--", PYTHON, SCRIPT, d, snap, "100000"] + self.mode
        l = Launcher(base + first_opts + cmd, env)
        self.wait_image("o")
        # Lines written after the checkpoint: wait until the data file has grown by ten.
        at_image = len(read(os.path.join(d, "data.txt")).splitlines())
        poll(lambda: len(read(os.path.join(d, "data.txt")).splitlines()) >= at_image + 10,
             what="lines written after the checkpoint")
        self.assertEqual(l.kill_program(), 137)
        at_kill = (read(os.path.join(d, "log.txt")), read(os.path.join(d, "data.txt")))
        l = Launcher(base + (first_opts if second_opts is None else second_opts) + cmd, env2 if env2 is not None else env)
        resumed = os.path.join(snap, "resumed")
        try:
            poll(lambda: read_words(resumed), what="the restored program")
        finally:
            after = (read(os.path.join(d, "log.txt")), read(os.path.join(d, "data.txt")))
            l.proc.terminate()
            l.wait()
        self.lines_after = len(after[1].splitlines())
        return at_kill, after

    def test_without_exclusion_both_files_roll_back(self):
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume([])
        self.assertLess(len(log_a), len(log_k))
        self.assertLess(len(data_a), len(data_k))
        self.assertEqual(len(log_a.splitlines()), len(data_a.splitlines()))

    def test_exclude_on_command_line_keeps_the_log(self):
        d = os.path.join(self.tmp, "d")
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume(["--exclude", os.path.join(d, "log.txt")])
        self.assertEqual(log_a, log_k, "the excluded log was rolled back")
        self.assertLess(len(data_a), len(data_k), "the other file was not rolled back")

    def test_exclude_in_environment_keeps_the_log(self):
        d = os.path.join(self.tmp, "d")
        env = {"CKPT_EXCLUDE": "/nonexistent/x:" + os.path.join(d, "log.txt")}
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume([], env=env)
        self.assertEqual(log_a, log_k)
        self.assertLess(len(data_a), len(data_k))

    def test_exclude_by_api_call_keeps_the_log(self):
        self.mode = ["api"]
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume([])
        self.assertEqual(log_a, log_k, "ckpt_exclude()d log was rolled back")
        self.assertLess(len(data_a), len(data_k))

    def test_exclude_glob_covers_a_directory_by_component(self):
        # "d" is a component pattern: the whole directory and everything below it.
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume(["--exclude", "d"])
        self.assertEqual((log_a, data_a), (log_k, data_k))

    def test_no_undo_leaves_a_file_as_it_is_now(self):
        d = os.path.join(self.tmp, "d")
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume([], ["--no-undo", os.path.join(d, "data.txt")])
        self.assertEqual(data_a, data_k, "--no-undo file was rolled back")
        self.assertLess(len(log_a), len(log_k))

    def test_no_undo_in_environment(self):
        d = os.path.join(self.tmp, "d")
        (log_k, data_k), (log_a, data_a) = self.crash_and_resume([], [], env2={"CKPT_NO_UNDO": os.path.join(d, "data.txt")})
        self.assertEqual(data_a, data_k)
        self.assertLess(len(log_a), len(log_k))

    def test_replace_file_gives_restored_descriptors_the_new_file(self):
        d = os.path.join(self.tmp, "d")
        snap = os.path.join(self.tmp, "snap")
        os.makedirs(d)
        os.makedirs(snap)
        with open(os.path.join(d, "in.txt"), "w") as f:
            f.write("first input\n")
        with open(os.path.join(d, "in2.txt"), "w") as f:
            f.write("second input\n")
        cmd = ["--", PYTHON, SCRIPT, d, snap, "0", "replace"]
        base = ["--dir", self.jobs, "--name", "r", "--interval", "200ms", "-v"]
        l = Launcher(base + cmd)
        self.wait_image("r")
        self.assertEqual(l.kill_program(), 137)
        l = Launcher(base + ["--replace-file", os.path.join(d, "in.txt") + "=" + os.path.join(d, "in2.txt")] + cmd)
        self.assertEqual(l.wait(), 0, l.stderr())
        self.assertEqual(read(os.path.join(d, "result.txt")), b"second input\n")
        self.assertEqual(read(os.path.join(d, "in.txt")), b"first input\n")
        self.assertEqual(read(os.path.join(d, "in2.txt")), b"second input\n")

    def small_tmpfs(self):
        m = os.path.join(self.tmp, "jobfs")
        os.mkdir(m)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", m], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: " + r.stderr.strip())
        self.mounts.append(m)
        return m

    def test_on_undo_failure_fail_makes_the_call_fail_with_enospc(self):
        m = self.small_tmpfs()
        big = os.path.join(self.tmp, "big.bin")
        l = Launcher(["--dir", m, "--name", "u", "--interval", "100ms", "-v", "--", UNDO_FAIL, big, os.path.join(m, "u")])
        rc = l.wait()
        self.assertEqual(rc, 3, l.stdout() + l.stderr())
        self.assertIn("No space left on device", l.stdout())
        self.assertIn("undo data could not be recorded", l.stderr())
        self.assertEqual(read(big), b"a" * (4 << 20), "the change went ahead although it could not be undone")

    def test_on_undo_failure_proceed_changes_with_a_loud_warning(self):
        m = self.small_tmpfs()
        big = os.path.join(self.tmp, "big.bin")
        l = Launcher(["--dir", m, "--name", "u", "--interval", "100ms", "-v", "--on-undo-failure=proceed", "--",
                      UNDO_FAIL, big, os.path.join(m, "u")])
        rc = l.wait()
        self.assertEqual(rc, 0, l.stdout() + l.stderr())
        self.assertIn("pwrite ok", l.stdout())
        self.assertIn("IS NO LONGER PROTECTED", l.stderr())
        self.assertIn(big, l.stderr())
        self.assertEqual(read(big)[:2 << 20], b"x" * (2 << 20))


if __name__ == "__main__":
    main()
