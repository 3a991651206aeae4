#!/usr/bin/python3
"""`ckptctl inspect` of an image of a four-thread program (four_threads.c: main and three
workers, each blocked in its own call in its own function) lists the four threads with tid,
name, role and system call, and a backtrace unwound from the image's memory whose frames name
each thread's function; in the table and in --json."""
import json
import os
import subprocess

import ckpt_harness
from ckpt_harness import check, log

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "four_threads.c")
EXPECTED = {"reader": "worker_reader", "sleeper": "worker_sleeper", "waiter": "worker_waiter",
            "four_threads": "main_wait"}


def body(h):
    exe = h.path("four_threads")
    r = subprocess.run(["cc", "-O1", "-g", "-pthread", "-o", exe, SOURCE], capture_output=True, text=True)
    check(r.returncode == 0, f"cannot compile four_threads.c:\n{r.stderr}")
    marker = h.path("ready")
    launcher = h.start("four", [exe, marker], h.make_output("four.out"), interval="100ms")
    h.poll(lambda: os.path.exists(marker) or launcher.poll() is not None, "the four threads to start")
    check(launcher.poll() is None, f"ckpt-run ended: {launcher.log_text()}")
    before = h.versions(launcher.job_path)
    v = h.wait_for_version_above(launcher, before[-1] if before else 0, "a checkpoint of the four threads")
    image = h.image_path(launcher.job_path, v)
    ckptctl = os.path.join(os.path.dirname(h.ckpt_run), "ckptctl")
    js = subprocess.run([ckptctl, "inspect", "--json", image], capture_output=True, text=True)
    check(js.returncode == 0, f"ckptctl inspect --json failed: {js.stderr}")
    threads = json.loads(js.stdout)["threads"]
    check(len(threads) == 4, f"{len(threads)} threads in the image, expected 4: {threads}")
    names = {t["name"]: t for t in threads}
    check(set(names) == set(EXPECTED), f"thread names {sorted(names)}, expected {sorted(EXPECTED)}")
    check(names["four_threads"]["main"] and sum(t["main"] for t in threads) == 1, "the main thread is not the one marked")
    check(names["reader"]["syscall_name"] == "read", f"reader in {names['reader']['syscall_name']}, expected read")
    check(names["waiter"]["syscall_name"] == "futex", f"waiter in {names['waiter']['syscall_name']}, expected futex")
    for name, fn in EXPECTED.items():
        frames = [f["function"] for f in names[name]["backtrace"]]
        check(fn in frames, f"thread {name}: backtrace {frames} does not name {fn}")
    text = subprocess.run([ckptctl, "inspect", image], capture_output=True, text=True)
    check(text.returncode == 0 and "Threads (4)" in text.stdout, f"ckptctl inspect (table) failed: {text.stderr}")
    for fn in EXPECTED.values():
        check(fn in text.stdout, f"the table output does not name {fn}")
    rc = h.kill_program(launcher)
    check(rc == ckpt_harness.EXIT_KILLED, f"ckpt-run exited with {rc} after the kill")
    log("inspect lists 4 threads, each backtrace names its function: " +
        ", ".join(f"{n}: {' < '.join(f['function'] or '?' for f in names[n]['backtrace'][:4])}" for n in sorted(names)))


ckpt_harness.main("inspect_threads", body)
