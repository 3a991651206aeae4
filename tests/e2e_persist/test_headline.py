"""Headline test: a program that appends to a log with stdio, rewrites records in place with
pwrite, saves a config by write-temp-and-rename, creates and deletes scratch files and
directories, and changes a file's mode, killed with SIGKILL at random moments under ckpt-run."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from persist_e2e import *  # noqa

PROG = os.path.join(BUILD, "tests", "e2e_persist", "persist_headline")
STEPS = 150


class Headline(PersistTest):
    def reference(self, steps=STEPS):
        ref = os.path.join(self.tmp, "ref")
        os.mkdir(ref)
        subprocess.run([PROG, ref, str(steps)], check=True, env={"STEP_US": "0"}, stdout=subprocess.DEVNULL)
        return ref

    def check_final(self, ref, run, steps=STEPS):
        self.assertEqual(manifest(ref), manifest(run))
        with open(os.path.join(run, "log.txt")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, [f"line {i:06d}" for i in range(1, steps + 1)], "duplicated or missing log lines")

    def kill_cycles(self, extra, cycles, env=None):
        run = os.path.join(self.tmp, "run")
        os.makedirs(run, exist_ok=True)
        args = ["--dir", self.jobs, "--name", "h", "--interval", "200ms", "-v"] + extra + ["--", PROG, run, str(STEPS)]
        env = dict(env or {}, STEP_US="20000")
        for c in range(cycles):
            prev = self.latest("h")
            l = Launcher(args, env)
            self.wait_newer("h", prev)
            time.sleep(self.rng.uniform(0.05, 0.6))
            if l.proc.poll() is not None:  # finished before the kill: start over from scratch
                self.fail("program finished before it could be killed:\n" + l.stderr())
            rc = l.kill_program()
            self.assertEqual(rc, 137, l.stderr())
        rc, l = self.run_to_end(args, env)
        self.assertEqual(rc, 0, l.stderr())
        self.assertIn("headline done", l.stdout())
        self.assertNotIn("could not be undone", l.stderr())
        return run

    def test_random_kills_final_files_equal_uninterrupted_run(self):
        ref = self.reference()
        run = self.kill_cycles([], 5)
        self.check_final(ref, run)
        self.assertFalse(os.path.exists(self.job_dir("h")), "job directory not cleaned up after exit 0")

    def test_random_kills_with_sync_undo(self):
        ref = self.reference()
        run = self.kill_cycles(["--sync-undo"], 3)
        self.check_final(ref, run)

    def test_files_equal_checkpoint_state_right_after_each_recovery(self):
        """Checkpoints are taken only between steps (the program blocks the signal during a
        step) and the program writes a manifest of its files after every step into an excluded
        directory; a restored program pauses before its next step, so the test sees the files
        as recovery left them and compares them with the manifest of the step it resumes at."""
        ref = self.reference()
        run = os.path.join(self.tmp, "run")
        snap = os.path.join(self.tmp, "snap")
        os.makedirs(run)
        os.makedirs(snap)
        args = ["--dir", self.jobs, "--name", "p", "--interval", "150ms", "-v", "--exclude", snap, "--",
                PROG, run, str(STEPS), snap]
        env = {"STEP_US": "20000", "BLOCK_CKPT": "1", "PAUSE_ON_RESTORE": "1"}
        resumed_file = os.path.join(snap, "resumed")
        checked = 0
        l = Launcher(args, env)
        prev = 0
        for cycle in range(5):
            prev = self.wait_newer("p", prev)
            time.sleep(self.rng.uniform(0.02, 0.4))
            self.assertIsNone(l.proc.poll(), "the program ended before the kill")
            self.assertEqual(l.kill_program(), 137)
            before = read_words(resumed_file)
            l = Launcher(args, env)
            now = poll(lambda: len(read_words(resumed_file)) > len(before) and read_words(resumed_file),
                       what="the restored program")
            k = int(now[-1])
            with open(os.path.join(snap, f"step-{k}.txt")) as f:
                expected = f.read()
            self.assertEqual(expected, manifest(run), f"files after recovery differ from their state after step {k}")
            checked += 1
            open(os.path.join(snap, f"go-{len(now)}"), "w").close()
        self.assertEqual(l.wait(), 0, l.stderr())
        self.assertEqual(checked, 5)
        self.check_final(ref, run)

    def test_crash_before_first_checkpoint_rolls_back_to_start(self):
        """Epoch 0: killed before any checkpoint, the next run starts from clean files."""
        run = os.path.join(self.tmp, "run")
        os.makedirs(run)
        with open(os.path.join(run, "log.txt"), "w") as f:
            f.write("from before\n")
        before = manifest(run)
        args = ["--dir", self.jobs, "--name", "z", "--interval", "1h", "-v", "--", PROG, run, str(STEPS)]
        l = Launcher(args, {"STEP_US": "5000"})
        poll(lambda: os.path.exists(os.path.join(run, "scratch-20.tmp")), what="progress")
        self.assertEqual(l.kill_program(), 137)
        self.assertNotEqual(before, manifest(run))
        # Only the recovery: it runs before the fresh start, so check through a launcher whose
        # program fails at once (a missing argument), and then the files are as before.
        l2 = Launcher(["--dir", self.jobs, "--name", "z", "-v", "--", PROG], {})
        self.assertEqual(l2.wait(), 64)
        self.assertEqual(before, manifest(run), l2.stderr())


if __name__ == "__main__":
    main()
