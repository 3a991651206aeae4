"""A Python program updating an SQLite database in a loop (the sqlite3 library does the file
I/O). usage: py_sqlite.py DB STEPS [SNAPDIR]: with SNAPDIR, a restored process (its parent, the launcher, changed) writes
SNAPDIR/resumed (steps done) and waits for SNAPDIR/go-N before going on."""
import os
import sqlite3
import sys
import time

db_path, steps = sys.argv[1], int(sys.argv[2])
snap = sys.argv[3] if len(sys.argv) > 3 else None
db = sqlite3.connect(db_path, isolation_level=None)
db.execute("PRAGMA journal_mode=DELETE")
db.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
db.execute("CREATE TABLE IF NOT EXISTS c(k TEXT PRIMARY KEY, n INTEGER)")
db.execute("INSERT OR IGNORE INTO c VALUES('sum', 0)")
my_ppid = os.getppid()  # a restore is done by a new launcher (the pid may stay the same)
done = 0
for i in range(1, steps + 1):
    if snap and os.getppid() != my_ppid:
        my_ppid = os.getppid()
        with open(os.path.join(snap, "resumed"), "a") as f:
            f.write(f"{done}\n")
        with open(os.path.join(snap, "resumed")) as f:
            n = len(f.read().split())
        while not os.path.exists(os.path.join(snap, f"go-{n}")):
            time.sleep(0.005)
    db.execute("BEGIN")
    db.execute("INSERT INTO t VALUES(?, ?)", (i, f"value {i} " + "v" * (i % 300)))
    db.execute("UPDATE c SET n = n + ? WHERE k = 'sum'", (i,))
    if i % 7 == 0:
        db.execute("DELETE FROM t WHERE id = ?", (i - 5,))
    if i % 25 == 0:
        db.execute("UPDATE t SET v = v || '!' WHERE id % 3 = 0")
    db.execute("COMMIT")
    done = i
    time.sleep(0.01)
db.close()
print("py_sqlite done", steps)
