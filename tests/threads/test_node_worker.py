#!/usr/bin/python3
"""node (unmodified; eight threads here: V8's platform workers, the main and a worker_threads
Worker's event loops; epoll instances, eventfds and self-pipes, one of which, libuv's signal
lock pipe, always holds a byte) runs a timer-driven loop: the main thread hands a SHA-256 chain to a
Worker, which extends it and posts it back, and the next step is scheduled with setTimeout;
a progress line every 40 steps. Killed 3 times under ckpt-run and resumed; the output must be
byte-identical to an uninterrupted run. Skipped (77) without node."""
import shutil
import sys

import ckpt_harness

CODE = r"""
const { Worker } = require('worker_threads');
const crypto = require('crypto');
const [rounds, per] = process.argv.slice(-2).map(Number);
const w = new Worker(`
  const { parentPort } = require('worker_threads');
  const crypto = require('crypto');
  parentPort.on('message', ({ i, h }) => {
    let x = Buffer.from(h, 'hex');
    for (let k = 0; k < ${per}; k++) x = crypto.createHash('sha256').update(x).digest();
    parentPort.postMessage({ i, h: x.toString('hex') });
  });`, { eval: true });
let h = crypto.createHash('sha256').update('node').digest('hex');
let i = 0;
const step = () => w.postMessage({ i, h });
w.on('message', (m) => {
  if (m.i !== i) throw new Error(`step ${m.i} answered while ${i} was due`);
  h = m.h;
  ++i;
  if (i % 40 === 0) console.log(`step ${i} ${h.slice(0, 16)}`);
  if (i === rounds) {
    console.log(`final ${h}`);
    w.terminate();
    return;
  }
  setTimeout(step, 1);
});
step();
"""


def body(h):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        print("SKIP: no node", flush=True)
        sys.exit(77)
    argv = [node, "-e", CODE, "3000", "500"]
    h.kill_and_resume(argv, job="node-worker", max_extra_ms=1000)


ckpt_harness.main("node_worker", body)
