#include "supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <systemd/sd-daemon.h>

#include "checkpoint_schedule.h"
#include "duration.h"
#include "internal_env.h"
#include "logging.h"
#include "status_protocol.h"

extern char **environ;

namespace ckpt {
namespace {

// Signals the launcher handles through its signalfd: child state, termination requests to
// pass on, and SIGUSR1 = "checkpoint now" from ckptctl.
sigset_t handled_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1}) sigaddset(&set, s);
    return set;
}

std::vector<std::string> child_environment(const RunConfig &cfg, const JobDir &job, bool restoring)
{
    std::vector<std::string> env;
    std::string preload;
    for (char **e = environ; *e; ++e) {
        std::string kv = *e;
        if (kv.rfind("LD_PRELOAD=", 0) == 0) { preload = kv.substr(11); continue; }
        // What the launcher sets below, and anything internal to ckpt (never from outside).
        if (is_launcher_variable(kv)) continue;
        // systemd's notification channel belongs to ckpt-run, the unit's main process.
        if (kv.rfind("NOTIFY_SOCKET=", 0) == 0 || kv.rfind("WATCHDOG_USEC=", 0) == 0 ||
            kv.rfind("WATCHDOG_PID=", 0) == 0)
            continue;
        env.push_back(kv);
    }
    if (!restoring) env.push_back("LD_PRELOAD=" + cfg.lib_path + (preload.empty() ? "" : ":" + preload));
    else if (!preload.empty()) env.push_back("LD_PRELOAD=" + preload);
    env.push_back("CKPT_JOB_DIR=" + job.path());
    env.push_back("CKPT_STATUS_FD=" + std::to_string(kStatusFd));
    env.push_back("CKPT_LAUNCHER_PID=" + std::to_string(getpid()));
    env.push_back("CKPT_SIGNAL=" + std::to_string(cfg.signal));
    env.push_back("CKPT_RESTORER=" + cfg.restorer_path);
    env.push_back("CKPT_COMMAND_ID=" + cfg.command_id);
    // The persistent-state settings the runtime reads at program start (a restored program
    // keeps the ones it started with: they are part of its memory).
    std::string ex;
    for (const auto &e : cfg.exclude) ex += (ex.empty() ? "" : ":") + e;
    env.push_back("CKPT_EXCLUDE=" + ex);
    env.push_back(std::string("CKPT_SYNC_UNDO=") + (cfg.sync_undo ? "1" : "0"));
    env.push_back("CKPT_ON_UNDO_FAILURE=" + cfg.on_undo_failure);
    return env;
}

int64_t realtime_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string mib(uint64_t bytes)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1 << 20));
    return buf;
}

std::string ms(uint64_t ns)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", double(ns) / 1e6);
    return buf;
}

// State 'T' or 't' in /proc/PID/stat: stopped by a signal or a tracer.
bool process_stopped(pid_t pid)
{
    char path[64], buf[512];
    std::snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't');
}

}  // namespace

Supervisor::Supervisor(const RunConfig &cfg, JobDir &job, JobStatus &status)
    : cfg_(cfg), job_(job), status_(status)
{
}

// fork(), but with the child's pid chosen (clone3 set_tid: needs CAP_SYS_ADMIN or
// CAP_CHECKPOINT_RESTORE in the pid namespace, and the pid free). -1 if that is not possible.
pid_t fork_with_pid(int pid)
{
    if (pid <= 1) return -1;
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
            set_tid_size, cgroup;
    } args{};
    pid_t want = pid;
    args.exit_signal = SIGCHLD;
    args.set_tid = reinterpret_cast<uint64_t>(&want);
    args.set_tid_size = 1;
    long r = syscall(SYS_clone3, &args, sizeof args);
    return r < 0 ? -1 : pid_t(r);
}

RunOutcome Supervisor::run(const std::string &image, int want_pid)
{
    RunOutcome out;
    const bool restoring = !image.empty();
    // The status channel: a socket, so that the runtime can send with MSG_NOSIGNAL (a write
    // to a pipe whose reader died raises SIGPIPE); SEQPACKET keeps one record per message.
    int pipefd[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pipefd) != 0) {
        out.kind = RunOutcome::Kind::SpawnFailed;
        out.message = std::string("socketpair: ") + std::strerror(errno);
        return out;
    }
    // The exec error, if any, comes back through a close-on-exec pipe.
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        close(pipefd[0]); close(pipefd[1]);
        out.kind = RunOutcome::Kind::SpawnFailed;
        out.message = std::string("pipe: ") + std::strerror(errno);
        return out;
    }
    const std::vector<std::string> env = child_environment(cfg_, job_, restoring);
    std::vector<std::string> args = cfg_.argv;
    if (restoring) {
        args = {cfg_.restorer_path};
        for (const auto &[from, to] : cfg_.replace) {
            args.push_back("--replace-file");
            args.push_back(from + "=" + to);
        }
        args.push_back(image);
    }
    const std::string exe = restoring ? cfg_.restorer_path : cfg_.program_path;
    std::vector<char *> argv_c, env_c;
    for (auto &a : args) argv_c.push_back(const_cast<char *>(a.c_str()));
    argv_c.push_back(nullptr);
    for (auto &e : env) env_c.push_back(const_cast<char *>(e.c_str()));
    env_c.push_back(nullptr);

    const sigset_t handled = handled_signals();
    sigset_t old_mask;
    sigprocmask(SIG_BLOCK, &handled, &old_mask);
    // A restored process gets its old pid back where the kernel allows it: glibc keeps thread
    // ids in places the runtime cannot fix (the owner of a held recursive or error-checking
    // mutex), and a changed id deadlocks such a mutex when the program enters it again.
    const pid_t launcher = getpid();
    const int lock_fd = job_.lock_fd();
    pid_t child = restoring ? fork_with_pid(want_pid) : -1;
    if (child < 0) child = fork();
    if (child < 0) {
        out.kind = RunOutcome::Kind::SpawnFailed;
        out.message = std::string("fork: ") + std::strerror(errno);
        return out;
    }
    if (child == 0) {
        // Async-signal-safe only from here to exec.
        // Only the standard streams and the status pipe go to the program: anything else
        // inherited from the caller could not be restored after a crash.
        // The checkpoint signal stays blocked across exec until the runtime has its handler
        // (runtime.cpp: its default action would end the program; the parent-death signal
        // below is the same signal). The runtime unblocks it; the program's view of its mask
        // does not show it.
        sigset_t child_mask = old_mask;
        sigaddset(&child_mask, cfg_.signal);
        sigprocmask(SIG_SETMASK, &child_mask, nullptr);
        // The program must not outlive the launcher: its death sends the checkpoint signal,
        // whose handler takes a last checkpoint and ends the program (until the runtime is
        // there, the signal's default action ends it). Checked after arming, for a launcher
        // that died before.
        prctl(PR_SET_PDEATHSIG, cfg_.signal);
        if (getppid() != launcher) _exit(128 + SIGKILL);
        // The job's lock goes with it (kLockFd): held until every process of the job is gone.
        const int errfd = kStatusFd + 1;
        if (dup2(pipefd[1], kStatusFd) < 0 || dup3(errpipe[1], errfd, O_CLOEXEC) < 0) _exit(127);
        if (lock_fd >= 0 && dup2(lock_fd, kLockFd) < 0) _exit(127);
        close_range(3, kLockFd - 1, 0);
        if (lock_fd < 0) close(kLockFd);
        close_range(errfd + 1, ~0u, 0);
        execve(exe.c_str(), argv_c.data(), env_c.data());
        int e = errno;
        (void)!write(errfd, &e, sizeof e);
        _exit(e == ENOENT ? 127 : 126);
    }
    close(pipefd[1]);
    close(errpipe[1]);
    int exec_errno = 0;
    if (read(errpipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
        out.kind = RunOutcome::Kind::SpawnFailed;
        out.message = exe + ": " + std::strerror(exec_errno);
    }
    close(errpipe[0]);

    status_.state = restoring ? "restoring" : "starting";
    status_.program_pid = child;
    job_.write_status(status_);
    spdlog::info("{} {} as pid {}", restoring ? "restoring from" : "started", restoring ? image : exe, child);

    const int sfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    // The watchdog's tick: deadlines of heartbeats, polls and a requested stop.
    const int wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    bool ready = false, exited = false, pipe_open = true;
    using clock = std::chrono::steady_clock;
    clock::time_point last_alive = clock::now(), poll_sent{}, next_poll{}, stop_deadline{};
    bool poll_outstanding = false, tick_armed = false;
    // Every checkpoint request goes through the schedule: one outstanding at a time, the
    // interval from the end of the previous one, --max-overhead.
    CheckpointSchedule schedule(cfg_.interval, cfg_.max_overhead_pct);
    bool explicit_pending = false;  // a ckptctl request that came while one was outstanding
    clock::time_point overhead_logged{};
    uint32_t poll_seq = 0;
    std::vector<uint64_t> unconfirmed;  // versions committed since the last heartbeat
    auto arm_tick = [&] {
        if (tick_armed) return;
        itimerspec its{};
        its.it_value = {0, 50 * 1000 * 1000};
        its.it_interval = its.it_value;
        timerfd_settime(wfd, 0, &its, nullptr);
        tick_armed = true;
    };
    // One-shot, absolute: when the schedule next needs a look (steady_clock is CLOCK_MONOTONIC).
    auto arm_clock = [&] {
        itimerspec its{};
        const auto at = schedule.next_wakeup();
        if (at != clock::time_point::max()) {
            const auto ns = std::max<int64_t>(1, at.time_since_epoch().count());
            its.it_value = {time_t(ns / 1000000000), long(ns % 1000000000)};
            const auto delay = schedule.overhead_delay();
            if (!schedule.outstanding() && delay.count() > 0) {
                const auto now = clock::now();
                const bool loud = overhead_logged == clock::time_point{} || now - overhead_logged > std::chrono::minutes(1);
                if (loud) overhead_logged = now;
                spdlog::log(loud ? spdlog::level::info : spdlog::level::debug,
                            "next checkpoint delayed by {}: the recent checkpoints stopped the program for {} each, "
                            "and --max-overhead {}% bounds the share of time it spends stopped",
                            format_duration(delay), ms(uint64_t(schedule.recent_pause().count())),
                            schedule.max_overhead_pct());
            }
        }
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
    };
    // Under systemd with WatchdogSec=, ckpt-run pings for the program while it is healthy.
    uint64_t sd_watchdog_usec = 0;
    const bool sd_watchdog = sd_watchdog_enabled(0, &sd_watchdog_usec) > 0;
    clock::time_point next_sd_ping{};
    if (cfg_.heartbeat.count() || cfg_.poll.count() || sd_watchdog) arm_tick();
    auto became_ready = [&] {
        ready = true;
        last_alive = clock::now();
        next_poll = last_alive + cfg_.poll;
        status_.state = "running";
        // READY=1 once per ckpt-run (an exec in the program or a restart only updates STATUS).
        sd_notifyf(0, "%sSTATUS=running %s (pid %d)", sd_ready_sent_ ? "" : "READY=1\n",
                   out.restored ? "restored" : "fresh", int(child));
        sd_ready_sent_ = true;
        schedule.start(clock::now());
        arm_clock();
    };
    auto kill_hung = [&](const std::string &why) {
        if (out.hung || exited) return;
        out.hung = true;
        out.message = "hung: " + why;
        spdlog::warn("program pid {} is hung ({}); killing it", child, why);
        kill(child, SIGKILL);
    };
    int wait_status = 0;

    auto request_checkpoint = [&](const char *why) {
        if (!ready) {
            spdlog::debug("checkpoint ({}) skipped: the program is not ready yet", why);
            return;
        }
        const auto now = clock::now();
        if (schedule.stale(now)) {
            spdlog::warn("the checkpoint requested last has not ended after a long time; asking again");
            schedule.abandoned(now);
        }
        if (schedule.outstanding()) {
            spdlog::debug("checkpoint ({}) coalesced with the one in progress", why);
            return;
        }
        spdlog::debug("checkpoint requested ({})", why);
        if (kill(child, cfg_.signal) == 0) {
            schedule.requested(now);
            arm_clock();
        } else {
            schedule.abandoned(now);
            arm_clock();
            // E.g. EAGAIN: the user's queue of pending real-time signals is full.
            status_.failures++;
            status_.last_error = std::string("cannot send the checkpoint signal: ") + std::strerror(errno);
            status_.seq++;
            job_.write_status(status_);
            spdlog::warn("checkpoint ({}) not requested: {}", why, status_.last_error);
        }
    };
    auto handle_message = [&](const StatusMessage &m) {
        if (m.magic != kStatusMagic || m.pid != child) return;
        const std::string text(m.text, strnlen(m.text, sizeof m.text));
        switch (m.type) {
        case StatusType::Ready:
            became_ready();
            break;
        case StatusType::Restored:
            out.restored = true;
            became_ready();
            status_.restores++;
            status_.restored_version = m.version;
            status_.last_restore_ns = m.ns_b - m.ns_a;
            spdlog::info("restored from checkpoint version {} in {}", m.version, ms(m.ns_b - m.ns_a));
            break;
        case StatusType::CheckpointDone:
            schedule.finished(clock::now(), std::chrono::nanoseconds(m.ns_a));
            // The time the checkpoint held the program does not count against its heartbeat.
            last_alive = std::min(clock::now(), last_alive + std::chrono::nanoseconds(m.ns_a));
            status_.checkpoints++;
            status_.last_version = m.version;
            status_.last_checkpoint_ns = realtime_ns();
            status_.last_pause_ns = m.ns_a;
            status_.last_image_bytes = m.bytes;
            status_.last_error.clear();
            status_.seq++;
            spdlog::info("checkpoint version {} committed: {}, program paused {}", m.version, mib(m.bytes), ms(m.ns_a));
            // With heartbeats, a version counts as good only once a heartbeat follows it: the
            // newer ones might hold a program that had already stopped making progress.
            if (cfg_.heartbeat.count()) unconfirmed.push_back(m.version);
            job_.prune(cfg_.retain ? cfg_.retain + unconfirmed.size() : 0);
            break;
        case StatusType::CheckpointFailed:
        case StatusType::CheckpointRefused:
            schedule.finished(clock::now(), std::chrono::nanoseconds(0));
            status_.failures++;
            status_.last_error = text + (m.err ? std::string(" (") + std::strerror(m.err) + ")" : "");
            if (m.err == ENOSPC || m.err == EDQUOT) status_.last_error += "; " + disk_full_message(job_.path(), m.bytes);
            status_.seq++;
            spdlog::warn("checkpoint {}: {}; the program keeps running and the previous checkpoints are intact",
                         m.type == StatusType::CheckpointRefused ? "refused" : "failed", status_.last_error);
            break;
        case StatusType::RestoreWarning:
            spdlog::warn("restore: {}", text);
            break;
        case StatusType::Warning:
            spdlog::warn("{}", text);
            break;
        case StatusType::Heartbeat:
            last_alive = clock::now();
            unconfirmed.clear();
            return;
        case StatusType::PollAnswer:
            if (poll_outstanding && m.version == poll_seq) {
                poll_outstanding = false;
                next_poll = clock::now() + cfg_.poll;
            }
            return;
        case StatusType::SetInterval:
            schedule.set_interval(std::chrono::nanoseconds(m.ns_a));
            spdlog::info("the program set the checkpoint interval to {}", format_duration(schedule.interval()));
            arm_clock();
            return;
        case StatusType::SetKeep:
            out.keep = m.version != 0;
            spdlog::info("the program asked to {} its checkpoints after a normal exit", out.keep ? "keep" : "remove");
            return;
        case StatusType::UndoFailure:
            // Loud on purpose: a file change could not be made undoable.
            if (m.bytes)
                spdlog::error("{} IS NO LONGER PROTECTED: its undo data could not be recorded ({}); the change "
                              "went ahead (--on-undo-failure=proceed) and a rollback will not restore it",
                              text, std::strerror(m.err));
            else
                spdlog::error("{}: undo data could not be recorded ({}); the program's call failed with that "
                              "error (--on-undo-failure=fail)", text, std::strerror(m.err));
            status_.last_error = "undo data for " + text + ": " + std::strerror(m.err);
            if (m.err == ENOSPC || m.err == EDQUOT) {
                status_.last_error += "; " + disk_full_message(job_.path(), 0);
                spdlog::error("{}", disk_full_message(job_.path(), 0));
            }
            break;
        }
        if (m.type == StatusType::CheckpointDone || m.type == StatusType::CheckpointFailed ||
            m.type == StatusType::CheckpointRefused) {
            if (explicit_pending) {
                explicit_pending = false;
                request_checkpoint("ckptctl");
            } else {
                arm_clock();
            }
        }
        job_.write_status(status_);
    };
    auto drain_pipe = [&] {
        StatusMessage m;
        for (;;) {
            ssize_t n = read(pipefd[0], &m, sizeof m);
            if (n == ssize_t(sizeof m)) { handle_message(m); continue; }
            if (n == 0) pipe_open = false;
            break;
        }
    };

    while (!exited) {
        pollfd fds[4] = {{sfd, POLLIN, 0}, {tfd, POLLIN, 0}, {pipe_open ? pipefd[0] : -1, POLLIN, 0}, {wfd, POLLIN, 0}};
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[2].revents) drain_pipe();
        if (fds[1].revents & POLLIN) {
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof ticks) > 0) {
                const auto now = clock::now();
                if (schedule.stale(now) || schedule.periodic_due(now)) request_checkpoint("interval");
                else arm_clock();
            }
        }
        if (fds[3].revents & POLLIN) {
            uint64_t ticks;
            (void)!read(wfd, &ticks, sizeof ticks);
            const auto now = clock::now();
            if (sd_watchdog && ready && !out.hung && now >= next_sd_ping) {
                sd_notify(0, "WATCHDOG=1");
                next_sd_ping = now + std::chrono::microseconds(sd_watchdog_usec / 2);
            }
            if (out.stop_requested && now > stop_deadline && !out.hung) {
                spdlog::warn("program pid {} did not stop within {}; killing it", child,
                             format_duration(cfg_.stop_timeout));
                kill(child, SIGKILL);
                stop_deadline = clock::time_point::max();
            } else if (ready && !out.stop_requested) {
                // A checkpoint in progress keeps the handler busy legitimately and does not
                // count, unless the process is stopped or the checkpoint takes unreasonably long.
                bool checkpoint_running = schedule.outstanding();
                if (checkpoint_running && (process_stopped(child) || schedule.stale(now))) {
                    schedule.abandoned(now);
                    arm_clock();
                    checkpoint_running = false;
                }
                if (checkpoint_running && poll_outstanding) poll_sent = now;
                if (cfg_.heartbeat.count() && !checkpoint_running && now - last_alive > cfg_.heartbeat) {
                    kill_hung("no heartbeat for " + format_duration(cfg_.heartbeat));
                    for (uint64_t v : unconfirmed) {
                        spdlog::warn("discarding checkpoint version {}: taken after the last heartbeat, it may hold the hung state", v);
                        ::unlink(job_.image_path(v).c_str());
                    }
                    unconfirmed.clear();
                }
                if (cfg_.poll.count() && !checkpoint_running) {
                    if (poll_outstanding && now - poll_sent > cfg_.poll) {
                        kill_hung("no answer to the watchdog's poll within " + format_duration(cfg_.poll) +
                                  " (stopped, or the runtime cannot run)");
                    } else if (!poll_outstanding && now >= next_poll) {
                        poll_seq = (poll_seq + 1) & 0xffff;
                        sigval v;
                        v.sival_int = int((kPollTag << 16) | poll_seq);
                        if (sigqueue(child, cfg_.signal, v) == 0) {
                            poll_outstanding = true;
                            poll_sent = now;
                        }
                    }
                }
            }
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                const int sig = int(si.ssi_signo);
                if (sig == SIGUSR1) {
                    // Asked for while one is in progress: that one may hold older state than
                    // the caller expects, so another follows as soon as it ends.
                    if (schedule.outstanding()) explicit_pending = true;
                    else request_checkpoint("ckptctl");
                } else if (sig != SIGCHLD) {
                    spdlog::info("received {}, passing it on to the program", signal_name(sig));
                    kill(child, sig);
                    kill(child, SIGCONT);  // a stopped program must be able to act on it
                    if (!out.stop_requested) {
                        out.stop_requested = true;
                        stop_deadline = clock::now() + cfg_.stop_timeout;
                        arm_tick();
                    }
                }
            }
            // Reap everything: the launcher is the program's reaper (and a subreaper for
            // whatever the program leaves behind).
            for (;;) {
                int st;
                pid_t p = waitpid(-1, &st, WNOHANG);
                if (p <= 0) break;
                if (p == child) { exited = true; wait_status = st; }
            }
        }
    }
    drain_pipe();
    close(pipefd[0]);
    close(sfd);
    close(tfd);
    close(wfd);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);

    if (out.kind == RunOutcome::Kind::SpawnFailed) return out;
    out.wait_status = wait_status;
    if (restoring && !out.restored) {
        out.kind = RunOutcome::Kind::RestoreFailed;
        out.restorer_exit = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
        return out;
    }
    out.kind = RunOutcome::Kind::Exited;
    return out;
}

}  // namespace ckpt
