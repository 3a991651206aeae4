#!/usr/bin/python3
"""A damaged link: the page data of version 5 of a 10-link chain is changed. Versions 6-10 need
it, so the recovery falls back to the newest intact chain (version 4), restores it byte-exact,
and ckptctl verify and list say which versions are broken."""
import ckpt_harness
from ckpt_harness import check, log, flip_page_data_byte
import incr_common as ic

STEPS = 10


def body(h):
    argv = [h.program("incr_pages"), "8", str(STEPS), str(h.seed % 1000)]
    steps, lines = ic.reference(h, argv)
    root, job, text, _ = ic.run_chain(h, argv, ["--full-every", "100"])
    check(h.versions(job) == list(range(1, STEPS + 1)), f"versions {h.versions(job)}")
    flip_page_data_byte(h.image_path(job, 5))
    rc, out = ic.ckptctl(h, root, "verify", "job")
    check(rc != 0, f"ckptctl verify passed a damaged chain: {out}")
    for v in range(5, STEPS + 1):
        check(f"version {v}: ok" not in out, f"ckptctl verify calls version {v} ok: {out}")
    for v in range(1, 5):
        check(f"version {v}: ok" in out, f"ckptctl verify does not call version {v} ok: {out}")
    # ckpt-run itself on the whole directory: the newest restorable version is 4.
    out_path = h.make_output("recover.out")
    launcher = h.start("job", argv, out_path, interval="1h", root=root, extra=["--keep"])
    rc = launcher.wait(300)
    text = launcher.log_text()
    check(rc == 0, f"the recovery exited with {rc}; log:\n{text}")
    check(launcher.restored_version() == 4, f"recovered version {launcher.restored_version()}, expected 4; "
          f"log:\n{text}")
    got = ckpt_harness.read_bytes(out_path).decode()
    m = ic.RESTORED_AT_RE.search(got)
    check(m and m.group(2) == steps[3], f"version 4 did not come back with the memory of step 3: {got[:200]!r}")
    log("versions 5-10 refused (their chain is damaged), version 4 restored byte-exact")


ckpt_harness.main("incr_damaged", body)
