#include "supervisor.h"
#include "exit_codes.h"

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

#include "internal_env.h"
#include "logging.h"
#include "status_protocol.h"
#include "supervision.h"

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
    env.push_back("CKPT_COMPRESS=" + std::to_string(cfg.compress_level));
    env.push_back("CKPT_RESTORER=" + cfg.restorer_path);
    if (restoring) env.push_back(std::string("CKPT_LAZY=") + (cfg.lazy ? "1" : "0"));
    if (restoring) env.push_back("CKPT_RESTORE_HANDSHAKE=1");  // the files after the pages (files_handshake.h)
    env.push_back("CKPT_COMMAND_ID=" + cfg.command_id);
    // Incremental images (a restored program keeps what it started with, in its memory).
    env.push_back(std::string("CKPT_INCREMENTAL=") + (cfg.incremental ? "1" : "0"));
    env.push_back("CKPT_FULL_EVERY=" + std::to_string(cfg.full_every));
    // The persistent-state settings the runtime reads at program start (a restored program
    // keeps the ones it started with: they are part of its memory).
    std::string ex;
    for (const auto &e : cfg.exclude) ex += (ex.empty() ? "" : ":") + e;
    env.push_back("CKPT_EXCLUDE=" + ex);
    env.push_back(std::string("CKPT_SYNC_UNDO=") + (cfg.sync_undo ? "1" : "0"));
    env.push_back("CKPT_ON_UNDO_FAILURE=" + cfg.on_undo_failure);
    return env;
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


// The machine's effects on the real child.
class ChildEffects final : public SupervisionEffects {
public:
    ChildEffects(JobDir &job, pid_t child, bool &sd_ready_sent) : job_(job), child_(child), sd_ready_sent_(sd_ready_sent) {}
    int signal_program(int sig) override { return kill(child_, sig) == 0 ? 0 : errno; }
    int poll_program(int sig, int value) override
    {
        sigval v;
        v.sival_int = value;
        return sigqueue(child_, sig, v) == 0 ? 0 : errno;
    }
    bool program_stopped() override { return process_stopped(child_); }
    void publish(const JobStatus &status) override { job_.write_status(status); }
    void prune(size_t retain) override { job_.prune(retain); }
    void discard(uint64_t version) override { ::unlink(job_.image_path(version).c_str()); }
    void discard_temp(uint64_t version) override { job_.remove_image_temp(version); }
    void kill_writer(int pid) override { kill(pid, SIGKILL); }
    void notify_running(bool restored) override
    {
        // READY=1 once per ckpt-run (an exec in the program or a restart only updates STATUS).
        sd_notifyf(0, "%sSTATUS=running %s (pid %d)", sd_ready_sent_ ? "" : "READY=1\n", restored ? "restored" : "fresh",
                   int(child_));
        sd_ready_sent_ = true;
    }
    void notify_watchdog() override { sd_notify(0, "WATCHDOG=1"); }

private:
    JobDir &job_;
    pid_t child_;
    bool &sd_ready_sent_;
};
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

RunOutcome Supervisor::run(const std::string &image, int want_pid, const std::function<int()> &roll_back_files)
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

    using clock = std::chrono::steady_clock;
    // Under systemd with WatchdogSec=, ckpt-run pings for the program while it is healthy.
    uint64_t sd_watchdog_usec = 0;
    if (sd_watchdog_enabled(0, &sd_watchdog_usec) <= 0) sd_watchdog_usec = 0;
    ChildEffects fx(job_, child, sd_ready_sent_);
    Supervision machine(cfg_, job_.path(), child, restoring, sd_watchdog_usec, out, status_, fx, clock::now());
    spdlog::info("{} {} as pid {}", restoring ? "restoring from" : "started", restoring ? image : exe, child);

    const int sfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    // One timer, one-shot and absolute, at the machine's next_wakeup() (steady_clock is
    // CLOCK_MONOTONIC).
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    bool pipe_open = true;
    auto feed = [&](SupervisionEvent e) { machine.handle(e, clock::now()); };
    // The restorer has the image's pages in memory: the files go back now, and it is told
    // whether to go on (files_handshake.h). Once, from the restorer itself.
    bool staged_answered = false;
    auto answer_staged = [&](const StatusMessage &m) {
        if (!restoring || staged_answered || m.magic != kStatusMagic || m.pid != child) return;
        staged_answered = true;
        spdlog::debug("the restorer has loaded and checked checkpoint version {}", m.version);
        const int rc = roll_back_files ? roll_back_files() : 0;
        out.files_exit = rc;
        StatusMessage a{};
        a.magic = kStatusMagic;
        a.type = StatusType::Staged;
        a.pid = child;
        a.version = m.version;
        a.err = rc;
        // The restorer blocks for this answer; if it died meanwhile, its exit is reaped as usual.
        (void)!send(pipefd[0], &a, sizeof a, MSG_NOSIGNAL);
    };
    auto drain_pipe = [&] {
        SupervisionEvent e{SupervisionEvent::Kind::Record};
        for (;;) {
            ssize_t n = read(pipefd[0], &e.record, sizeof e.record);
            if (n == ssize_t(sizeof e.record) && e.record.type == StatusType::Staged) { answer_staged(e.record); continue; }
            if (n == ssize_t(sizeof e.record)) { feed(e); continue; }
            if (n == 0) pipe_open = false;
            break;
        }
    };
    // Reap everything: the launcher is the program's reaper (and a subreaper for whatever the
    // program leaves behind). The program's stops and continues are events too.
    auto reap = [&] {
        // A forked writer reports before it exits: its records are read first.
        if (pipe_open) drain_pipe();
        for (;;) {
            int st;
            pid_t p = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED);
            if (p <= 0) break;
            if (p != child) {
                if (WIFEXITED(st) || WIFSIGNALED(st)) feed({SupervisionEvent::Kind::WriterExited, {}, 0, st, int(p)});
                continue;
            }
            if (WIFSTOPPED(st)) feed({SupervisionEvent::Kind::ChildStopped, {}, WSTOPSIG(st)});
            else if (WIFCONTINUED(st)) feed({SupervisionEvent::Kind::ChildContinued});
            else feed({SupervisionEvent::Kind::ChildExited, {}, 0, st});
        }
    };
    // After the program ended, a forked writer still writing is waited for (its version may
    // be the one the next run restores; the clean-up after exit 0 must not race with it).
    while (!machine.exited() || machine.writer_running()) {
        itimerspec its{};
        if (const auto at = machine.next_wakeup(); at != clock::time_point::max()) {
            const auto ns = std::max<int64_t>(1, at.time_since_epoch().count());
            its.it_value = {time_t(ns / 1000000000), long(ns % 1000000000)};
        }
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
        pollfd fds[3] = {{sfd, POLLIN, 0}, {tfd, POLLIN, 0}, {pipe_open ? pipefd[0] : -1, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[2].revents) drain_pipe();
        if (fds[1].revents & POLLIN) {
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof ticks) > 0) feed({SupervisionEvent::Kind::Timer});
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si)
                if (si.ssi_signo != SIGCHLD) feed({SupervisionEvent::Kind::Signal, {}, int(si.ssi_signo)});
            reap();
        }
    }
    drain_pipe();
    close(pipefd[0]);
    close(sfd);
    close(tfd);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);

    if (out.kind == RunOutcome::Kind::SpawnFailed) return out;
    // Damaged page data found by the lazy loader after the program ran again: as a damaged
    // image found before (the previous version is tried; the program's file changes since the
    // restore are undone with it).
    if (restoring && out.lazy_failed) {
        out.kind = RunOutcome::Kind::RestoreFailed;
        out.restorer_exit = exit_code::kBadImage;
        return out;
    }
    if (restoring && !out.restored) {
        out.kind = RunOutcome::Kind::RestoreFailed;
        out.restorer_exit = WIFEXITED(out.wait_status) ? WEXITSTATUS(out.wait_status) : 128 + WTERMSIG(out.wait_status);
        return out;
    }
    out.kind = RunOutcome::Kind::Exited;
    return out;
}

}  // namespace ckpt
