"""Programs nobody here wrote: python3's io layer, sqlite3 (through Python's sqlite3 module),
sed -i and sort -o, killed at random moments under ckpt-run and resumed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from persist_e2e import *  # noqa


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def sqlite_cli(db, sql):
    r = subprocess.run(["sqlite3", "-readonly", db, sql], capture_output=True, text=True, check=True)
    return r.stdout


class RealPrograms(PersistTest):
    def kill_and_finish(self, name, args, env=None, cycles=4, min_wait=0.05, max_wait=0.5):
        full = ["--dir", self.jobs, "--name", name, "--interval", "150ms", "-v"] + args
        for _ in range(cycles):
            prev = self.latest(name)
            l = Launcher(full, env)
            poll(lambda: self.latest(name) > prev or l.proc.poll() is not None, timeout=60, what="a newer checkpoint")
            time.sleep(self.rng.uniform(min_wait, max_wait))
            if l.proc.poll() is not None:  # already done: nothing left to kill
                self.assertEqual(l.wait(), 0, l.stderr())
                return l
            rc = l.kill_program()
            if rc is None or rc == 0:  # the program finished just before the kill
                self.assertEqual(l.wait(), 0, l.stderr())
                return l
            self.assertEqual(rc, 137, l.stderr())
        rc, l = self.run_to_end(full, env)
        self.assertEqual(rc, 0, l.stderr())
        self.assertNotIn("could not be undone", l.stderr())
        return l

    def test_python_io(self):
        script = os.path.join(HERE, "py_io.py")
        ref, run = os.path.join(self.tmp, "ref"), os.path.join(self.tmp, "run")
        subprocess.run([PYTHON, script, ref, "200"], check=True, stdout=subprocess.DEVNULL)
        self.kill_and_finish("py", ["--", PYTHON, script, run, "200"])
        self.assertEqual(manifest(ref), manifest(run))

    def test_python_shared_mmap(self):
        script = os.path.join(HERE, "py_mmap.py")
        ref, run = os.path.join(self.tmp, "ref.bin"), os.path.join(self.tmp, "run.bin")
        subprocess.run([PYTHON, script, ref, "600"], check=True, stdout=subprocess.DEVNULL)
        self.kill_and_finish("mm", ["--", PYTHON, script, run, "600"])
        self.assertEqual(read_bytes(ref), read_bytes(run))

    def test_sqlite_loop(self):
        script = os.path.join(HERE, "py_sqlite.py")
        ref, run = os.path.join(self.tmp, "ref.db"), os.path.join(self.tmp, "run.db")
        snap = os.path.join(self.tmp, "snap")
        os.mkdir(snap)
        steps = 300
        subprocess.run([PYTHON, script, ref, str(steps)], check=True, stdout=subprocess.DEVNULL)
        args = ["--dir", self.jobs, "--name", "sq", "--interval", "150ms", "-v", "--exclude", snap, "--",
                PYTHON, script, run, str(steps), snap]
        resumed = os.path.join(snap, "resumed")
        l = Launcher(args)
        prev = 0
        for cycle in range(4):
            prev = self.wait_newer("sq", prev)
            time.sleep(self.rng.uniform(0.02, 0.4))
            self.assertIsNone(l.proc.poll(), l.stderr())
            self.assertEqual(l.kill_program(), 137)
            before = read_words(resumed)
            l = Launcher(args)
            try:
                now = poll(lambda: len(read_words(resumed)) > len(before) and read_words(resumed),
                           what="restored program")
            except AssertionError:
                l.proc.terminate()
                l.wait()
                raise AssertionError("the restored program did not resume:\n" + l.stderr())
            k = int(now[-1])
            # Right after the recovery: the database is intact and holds exactly k transactions.
            self.assertEqual(sqlite_cli(run, "PRAGMA integrity_check").strip(), "ok")
            self.assertEqual(int(sqlite_cli(run, "SELECT n FROM c").strip()), k * (k + 1) // 2)
            self.assertFalse(os.path.exists(run + "-journal"), "a hot journal was left behind")
            open(os.path.join(snap, f"go-{len(now)}"), "w").close()
        self.assertEqual(l.wait(), 0, l.stderr())
        self.assertEqual(sqlite_cli(ref, ".dump"), sqlite_cli(run, ".dump"))
        self.assertEqual(sqlite_cli(run, "PRAGMA integrity_check").strip(), "ok")

    def big_text(self, path, lines):
        with open(path, "w") as f:
            for i in range(lines):
                f.write(f"{(i * 7919) % lines:09d} foo line {i} {'z' * (i % 40)}\n")

    def test_sed_in_place(self):
        ref, run = os.path.join(self.tmp, "ref"), os.path.join(self.tmp, "run")
        os.mkdir(ref)
        os.mkdir(run)
        self.big_text(os.path.join(ref, "big.txt"), 1500000)
        shutil.copy(os.path.join(ref, "big.txt"), os.path.join(run, "big.txt"))
        subprocess.run(["sed", "-i", "s/foo/BAR/;s/line/LINE/", os.path.join(ref, "big.txt")], check=True)
        self.kill_and_finish("sed", ["--", "sed", "-i", "s/foo/BAR/;s/line/LINE/", os.path.join(run, "big.txt")],
                             cycles=3, min_wait=0.0, max_wait=0.3)
        self.assertEqual(manifest(ref), manifest(run))  # no temporary file left behind either

    def test_sort_output_over_input(self):
        ref, run = os.path.join(self.tmp, "ref"), os.path.join(self.tmp, "run")
        os.mkdir(ref)
        os.mkdir(run)
        self.big_text(os.path.join(ref, "data.txt"), 600000)
        shutil.copy(os.path.join(ref, "data.txt"), os.path.join(run, "data.txt"))
        p = os.path.join(ref, "data.txt")
        subprocess.run(["sort", "--parallel=1", "-S", "200M", "-o", p, p], check=True)
        q = os.path.join(run, "data.txt")
        env = {"TMPDIR": self.tmp}
        self.kill_and_finish("sort", ["--", "sort", "--parallel=1", "-S", "200M", "-o", q, q], env=env,
                             cycles=3, min_wait=0.0, max_wait=0.6)
        self.assertEqual(manifest(ref), manifest(run))


if __name__ == "__main__":
    main()
