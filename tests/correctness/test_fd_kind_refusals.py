#!/usr/bin/python3
"""Issue 10: the descriptor-kind states a restore could not bring back exactly are refused
with a message naming the descriptor, and the program runs on and ends normally:
  * an epoll instance whose entry names a descriptor number closed since (the file lives on
    as a dup, so the kernel keeps the entry; re-arming by number would watch something else);
  * an inotify instance whose watch numbers have a gap (watch 1 removed): a new instance
    would hand out other numbers;
  * an inotify instance holding an unread event: it cannot be saved without consuming it;
    refused only while it is there: once the program has read it, the next checkpoint is
    committed."""
import ckpt_harness
from ckpt_harness import check, log
from fdcase_common import Case


def refused_then_finish(h, mode, pattern, what):
    case = Case(h, mode)
    launcher = case.start(h.make_output(f"{mode}.out"))
    case.wait_file(launcher, "ready")
    line = case.refused(launcher, pattern, what)
    check(h.versions(launcher.job_path) == [], f"{mode}: a checkpoint was committed: {h.versions(launcher.job_path)}")
    case.finish(launcher)
    log(f"{mode}: {line!r}; the program ran on and ended normally")


def body(h):
    refused_then_finish(h, "epoll-closed", r"an epoll watching a closed fd \(not supported\): "
                        r"fd 3 -> anon_inode:\[eventpoll\]", "a refusal naming the epoll instance")
    refused_then_finish(h, "inotify-gap", r"inotify watch numbers with a gap \(not supported\): fd 3 -> anon_inode:inotify",
                        "a refusal naming the inotify instance")

    case = Case(h, "inotify-unread")
    launcher = case.start(h.make_output("unread.out"))
    case.wait_file(launcher, "ready")
    line = case.refused(launcher, r"an inotify with unread events \(retried later\): "
                        r"fd 3 -> anon_inode:inotify", "a refusal naming the inotify instance")
    check(h.versions(launcher.job_path) == [], f"a checkpoint was committed with an event queued")
    case.touch("go1")
    case.wait_file(launcher, "drained")
    v = h.wait_for_version_above(launcher, 0, "a checkpoint once the event was read")
    case.finish(launcher)
    log(f"inotify-unread: {line!r}; after the read, version {v} was committed")


ckpt_harness.main("fd_kind_refusals", body)
