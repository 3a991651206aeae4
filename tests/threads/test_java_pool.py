#!/usr/bin/python3
"""A Java program on the JVM (openjdk, ~20 threads of its own) with a fixed pool of four
worker threads (java.util.concurrent) computing SHA-256 chains and a shared counter under a
ReentrantLock; killed 3 times under ckpt-run and resumed; output byte-identical to an
uninterrupted run. Skipped (77) without javac/java."""
import os
import shutil
import subprocess
import sys

import ckpt_harness
from ckpt_harness import check

SOURCE = r"""
import java.security.MessageDigest;
import java.util.concurrent.*;
import java.util.concurrent.locks.ReentrantLock;

public class Pool {
    static final ReentrantLock lock = new ReentrantLock();
    static long steps = 0;
    public static void main(String[] a) throws Exception {
        final int tasks = Integer.parseInt(a[0]), rounds = Integer.parseInt(a[1]);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        java.util.List<Future<String>> out = new java.util.ArrayList<>();
        for (int t = 0; t < tasks; ++t) {
            final int id = t;
            out.add(pool.submit(() -> {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] h = ("task-" + id).getBytes();
                for (int i = 0; i < rounds; ++i) {
                    h = md.digest(h);
                    if (i % 1000 == 0) { lock.lock(); try { steps++; } finally { lock.unlock(); } }
                }
                StringBuilder s = new StringBuilder();
                for (int k = 0; k < 8; ++k) s.append(String.format("%02x", h[k]));
                return id + " " + s;
            }));
        }
        for (Future<String> f : out) System.out.println(f.get());
        pool.shutdown();
        System.out.println("steps " + steps);
    }
}
"""


def body(h):
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java:
        print("SKIP: no javac/java", flush=True)
        sys.exit(77)
    src = h.path("Pool.java")
    with open(src, "w") as f:
        f.write(SOURCE)
    r = subprocess.run([javac, "-d", h.path("classes"), src], capture_output=True, text=True)
    check(r.returncode == 0, f"javac failed:\n{r.stderr}")
    # No hsperfdata file (a shared mapping under /tmp meant for other processes); a small
    # heap and the serial collector keep the image and the number of threads small.
    argv = [java, "-XX:-UsePerfData", "-Xmx64m", "-XX:+UseSerialGC", "-Xshare:off",
            "-cp", h.path("classes"), "Pool", "144", "300000"]
    h.kill_and_resume(argv, job="java-pool", max_extra_ms=1000)


ckpt_harness.main("java_pool", body)
