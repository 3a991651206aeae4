#include "supervision.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "duration.h"
#include "logging.h"

namespace ckpt {
namespace {

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

}  // namespace

Supervision::Supervision(const RunConfig &cfg, const std::string &job_path, int child, bool restoring,
                         uint64_t sd_watchdog_usec, RunOutcome &out, JobStatus &status, SupervisionEffects &fx,
                         TimePoint now)
    : cfg_(cfg), job_path_(job_path), child_(child), sd_watchdog_usec_(sd_watchdog_usec), out_(out),
      status_(status), fx_(fx), schedule_(cfg.interval, cfg.max_overhead_pct), stall_(now), last_alive_(now)
{
    status_.state = restoring ? "restoring" : "starting";
    status_.program_pid = child;
    status_.stalled_since_ns = 0;
    status_.stall_reason.clear();
    fx_.publish(status_);
    if (watchdog_on()) next_tick_ = now + kWatchdogTick;
}

bool Supervision::watchdog_on() const
{
    return cfg_.heartbeat.count() || cfg_.poll.count() || sd_watchdog_usec_ || out_.stop_requested;
}

// ---- the transition function ----------------------------------------------------------------

void Supervision::handle(const SupervisionEvent &e, TimePoint now)
{
    switch (e.kind) {
    case SupervisionEvent::Kind::Record:
        on_record(e.record, now);
        break;
    case SupervisionEvent::Kind::Timer:
        on_timer(now);
        break;
    case SupervisionEvent::Kind::Signal:
        on_signal(e.signo, now);
        break;
    case SupervisionEvent::Kind::ChildStopped:
        // A stopped program cannot answer: the request stays pending in it, and no other is
        // sent until it continues (real-time signals would queue up one per interval).
        suspended_ = true;
        stop_signal_ = e.signo;
        break;
    case SupervisionEvent::Kind::ChildContinued:
        suspended_ = false;  // a periodic checkpoint that came due meanwhile goes now (next_wakeup)
        break;
    case SupervisionEvent::Kind::ChildExited:
        phase_ = Phase::Exited;
        out_.wait_status = e.wait_status;
        break;
    case SupervisionEvent::Kind::WriterExited:
        on_writer_exited(e.pid, e.wait_status, now);
        break;
    }
    update_stall(now);
}

Supervision::TimePoint Supervision::next_wakeup() const
{
    // After the program's exit ckpt-run still waits for a writer: until its timeout at most.
    if (exited()) return writer_deadline();
    TimePoint t = next_tick_;
    // While a forked writer writes, its request cannot become stale: only its end counts, or
    // its timeout.
    if (ready() && !suspended_ && request_ != Request::Writing) t = std::min(t, schedule_.next_wakeup());
    t = std::min(t, writer_deadline());
    return std::min(t, stall_.deadline(schedule_.interval()));
}

// ---- transitions ----------------------------------------------------------------------------

void Supervision::on_timer(TimePoint now)
{
    if (now >= writer_deadline()) kill_hung_writer(now);
    if (exited()) return;
    if (ready() && !suspended_) {
        if (schedule_.stale(now) || schedule_.periodic_due(now)) request_checkpoint("interval", now);
        else log_overhead(now);
    }
    if (now >= next_tick_) {
        next_tick_ = watchdog_on() ? now + kWatchdogTick : TimePoint::max();
        watchdog(now);
    }
}

void Supervision::on_signal(int sig, TimePoint now)
{
    if (sig == SIGUSR1) {
        // Asked for while one is in progress: that one may hold older state than the caller
        // expects, so another follows as soon as it ends.
        if (schedule_.outstanding()) explicit_pending_ = true;
        else request_checkpoint("ckptctl", now);
        return;
    }
    if (sig == SIGCHLD) return;
    spdlog::info("received {}, passing it on to the program", signal_name(sig));
    fx_.signal_program(sig);
    fx_.signal_program(SIGCONT);  // a stopped program must be able to act on it
    if (out_.stop_requested) return;
    out_.stop_requested = true;
    if (phase_ != Phase::Exited) phase_ = Phase::Stopping;
    stop_deadline_ = now + cfg_.stop_timeout;
    if (next_tick_ == TimePoint::max()) next_tick_ = now + kWatchdogTick;
}

void Supervision::on_ready(TimePoint now)
{
    const bool exec = ready();  // Ready again: the program exec'd, and the new image's runtime is up
    last_alive_ = now;
    next_poll_ = now + cfg_.poll;
    poll_outstanding_ = false;  // a poll sent to the old image is answered by this record
    if (phase_ == Phase::Starting) phase_ = Phase::Running;
    status_.state = "running";
    fx_.notify_running(out_.restored);
    // An exec keeps the schedule: a program that execs more often than the interval must
    // still be checkpointed. A request sent before the exec stays pending in the new image.
    if (exec) {
        spdlog::debug("the program (pid {}) exec'd; the next checkpoint stays due as scheduled", child_);
        return;
    }
    schedule_.start(now);
    log_overhead(now);
}

void Supervision::on_record(const StatusMessage &m, TimePoint now)
{
    if (m.magic != kStatusMagic || m.pid != child_) return;
    const std::string text(m.text, strnlen(m.text, sizeof m.text));
    switch (m.type) {
    case StatusType::Ready:
        on_ready(now);
        break;
    case StatusType::Restored:
        out_.restored = true;
        on_ready(now);
        status_.restores++;
        status_.restored_version = m.version;
        status_.last_restore_ns = m.ns_b - m.ns_a;
        spdlog::info("restored from checkpoint version {} in {}{}", m.version, ms(m.ns_b - m.ns_a),
                     text == "lazy" ? " (memory loaded on demand)" : "");
        break;
    case StatusType::CheckpointWriting:
        on_writing(m, now);
        break;
    case StatusType::LazyFailed:
        out_.lazy_failed = true;
        spdlog::error("lazy restore of checkpoint version {} failed after the program ran again: {}; the loader "
                      "killed the program (it never runs on with a wrong page)", m.version, text);
        return;
    case StatusType::ForkUnsafe:
        // The writer exits without an image; its exit asks again, synchronously.
        if (!fork_unsafe_)
            spdlog::warn("the forked checkpoint writer cannot see all of the program's memory: {}; checkpoints are "
                         "written synchronously from now on (the program waits for each write)", text);
        fork_unsafe_ = true;
        if (writing_open_ && m.version == writing_version_) retry_sync_ = true;
        return;
    case StatusType::CheckpointDone: {
        const bool forked = writing_open_ && m.version == writing_version_;
        // A forked version's pause is the program's own figure (its CheckpointWriting), not
        // the writer's, which starts to count later.
        const uint64_t pause_ns = forked ? writing_pause_ns_ : m.ns_a;
        ended_version_ = std::max(ended_version_, m.version);
        schedule_.finished(now, std::chrono::nanoseconds(pause_ns));
        // The time the checkpoint held the program does not count against its heartbeat.
        last_alive_ = std::min(now, last_alive_ + std::chrono::nanoseconds(pause_ns));
        status_.checkpoints++;
        status_.last_version = m.version;
        status_.last_checkpoint_ns = realtime_ns();
        status_.last_pause_ns = pause_ns;
        status_.last_image_bytes = m.bytes;
        status_.last_error.clear();
        status_.seq++;
        if (forked) last_write_ = now - writing_since_;
        if (forked)
            spdlog::info("checkpoint version {} committed: {}, program paused {}, written in {} by a forked writer",
                         m.version, mib(m.bytes), ms(pause_ns), ms(uint64_t((now - writing_since_).count())));
        else
            spdlog::info("checkpoint version {} committed: {}, program paused {}", m.version, mib(m.bytes), ms(m.ns_a));
        if (forked) end_writing();
        if (stall_.progress(now) == CheckpointStall::Change::Ended) {
            spdlog::info("checkpoints resumed: version {} committed; the stall is over", m.version);
            status_.stalled_since_ns = 0;
            status_.stall_reason.clear();
        }
        last_outcome_.clear();
        // With heartbeats, a version counts as good only once a heartbeat follows it: the
        // newer ones might hold a program that had already stopped making progress.
        if (cfg_.heartbeat.count()) unconfirmed_.push_back(m.version);
        fx_.prune(cfg_.retain ? cfg_.retain + unconfirmed_.size() : 0);
        on_checkpoint_ended(m, now);
        break;
    }
    case StatusType::CheckpointFailed:
    case StatusType::CheckpointRefused: {
        const bool refused = m.type == StatusType::CheckpointRefused;
        if (m.version) ended_version_ = std::max(ended_version_, m.version);  // a writer's
        if (writing_open_ && (m.version == 0 || m.version == writing_version_)) {
            fx_.discard_temp(writing_version_);
            end_writing();
        }
        schedule_.finished(now, std::chrono::nanoseconds(0));
        status_.failures++;
        status_.last_error = text + (m.err ? std::string(" (") + std::strerror(m.err) + ")" : "");
        if (m.err == ENOSPC || m.err == EDQUOT) status_.last_error += "; " + disk_full_message(job_path_, m.bytes);
        status_.seq++;
        last_outcome_ = std::string(refused ? "refused: " : "failed: ") + status_.last_error;
        spdlog::warn("checkpoint {}: {}; the program keeps running and the previous checkpoints are intact",
                     refused ? "refused" : "failed", status_.last_error);
        on_checkpoint_ended(m, now);
        break;
    }
    case StatusType::CheckpointDeferred:
        // Still outstanding: the runtime takes it when the program's call returns.
        if (request_ == Request::Requested) spdlog::debug("checkpoint deferred by the runtime: {}", text);
        if (schedule_.outstanding()) request_ = Request::Deferred;
        deferred_why_ = text;
        return;
    case StatusType::RestoreWarning:
        spdlog::warn("restore: {}", text);
        break;
    case StatusType::Warning:
        spdlog::warn("{}", text);
        break;
    case StatusType::Staged:  // answered by Supervisor::run itself, never reaches the machine
        return;
    case StatusType::Heartbeat:
        last_alive_ = now;
        unconfirmed_.clear();
        return;
    case StatusType::PollAnswer:
        if (poll_outstanding_ && m.version == poll_seq_) {
            poll_outstanding_ = false;
            next_poll_ = now + cfg_.poll;
        }
        return;
    case StatusType::SetInterval:
        schedule_.set_interval(std::chrono::nanoseconds(m.ns_a));
        spdlog::info("the program set the checkpoint interval to {}", format_duration(schedule_.interval()));
        return;
    case StatusType::SetKeep:
        out_.keep = m.version != 0;
        spdlog::info("the program asked to {} its checkpoints after a normal exit", out_.keep ? "keep" : "remove");
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
            status_.last_error += "; " + disk_full_message(job_path_, 0);
            spdlog::error("{}", disk_full_message(job_path_, 0));
        }
        break;
    }
    fx_.publish(status_);
}

// The program forked a writer and runs on: the request stays outstanding until the writer
// reports the commit (or its failure), or is found dead.
void Supervision::on_writing(const StatusMessage &m, TimePoint now)
{
    writer_pid_ = int(m.ns_b);
    if (m.version <= ended_version_) {  // its writer was faster than this record
        spdlog::debug("checkpoint version {}: written by a forked writer (pid {}) already", m.version, writer_pid_);
        return;
    }
    writing_version_ = m.version;
    writing_open_ = true;
    writing_pause_ns_ = m.ns_a;
    writing_since_ = now;
    if (schedule_.outstanding()) request_ = Request::Writing;
    status_.writing_version = m.version;
    status_.writer_pid = writer_pid_;
    status_.writing_since_ns = realtime_ns();
    spdlog::debug("checkpoint version {}: program paused {}, a forked writer (pid {}) writes it", m.version,
                  ms(m.ns_a), writer_pid_);
}

void Supervision::end_writing()
{
    writing_open_ = false;
    status_.writing_version = 0;
    status_.writer_pid = 0;
    status_.writing_since_ns = 0;
    if (request_ == Request::Writing) request_ = Request::Requested;
}

Supervision::TimePoint Supervision::writer_deadline() const
{
    if (!writing_open_ || writer_pid_ == 0 || cfg_.writer_timeout.count() == 0) return TimePoint::max();
    std::chrono::nanoseconds limit = cfg_.writer_timeout;
    if (limit == RunConfig::kWriterTimeoutAuto) limit = std::max<std::chrono::nanoseconds>(std::chrono::seconds(60), 10 * last_write_);
    return writing_since_ + limit;
}

// A forked writer that has not committed in time (a hung disk, a stopped writer): killed by
// its pid (ckpt-run's own child through CLONE_PARENT, so the pid cannot have been reused
// before it is reaped), its temporary image removed now (a rename it might still attempt then
// fails), and the checkpoint ended as failed, so that the next one is asked for on the schedule.
void Supervision::kill_hung_writer(TimePoint now)
{
    const uint64_t version = writing_version_;
    const int pid = writer_pid_;
    const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(writer_deadline() - writing_since_);
    fx_.kill_writer(pid);
    fx_.discard_temp(version);
    end_writing();
    schedule_.finished(now, std::chrono::nanoseconds(writing_pause_ns_));
    status_.failures++;
    status_.last_error = "the checkpoint writer of version " + std::to_string(version) + " (pid " + std::to_string(pid) +
                         ") did not commit within " + format_duration(limit) + " (--writer-timeout)";
    status_.seq++;
    last_outcome_ = "failed: " + status_.last_error;
    spdlog::warn("checkpoint failed: {}; killed it, version {} is not committed, the previous checkpoints are intact",
                 status_.last_error, version);
    fx_.publish(status_);
    on_checkpoint_ended(StatusMessage{}, now);
}

// A child of ckpt-run that is not the program ended: the writer, or something the program
// left behind (ckpt-run is their subreaper).
void Supervision::on_writer_exited(int pid, int wait_status, TimePoint now)
{
    if (pid == 0 || pid != writer_pid_) return;
    writer_pid_ = 0;
    if (!writing_open_) return;  // it reported the commit or its failure
    const uint64_t version = writing_version_;
    fx_.discard_temp(version);
    end_writing();
    schedule_.finished(now, std::chrono::nanoseconds(writing_pause_ns_));
    if (retry_sync_) {
        retry_sync_ = false;
        request_ = Request::Idle;
        spdlog::info("checkpoint version {} not written by the forked writer; asking for a synchronous one", version);
        request_checkpoint("synchronous retry", now);
        fx_.publish(status_);
        return;
    }
    const std::string how = WIFSIGNALED(wait_status) ? "killed by " + signal_name(WTERMSIG(wait_status))
                                                     : "exit status " + std::to_string(WEXITSTATUS(wait_status));
    status_.failures++;
    status_.last_error = "the checkpoint writer of version " + std::to_string(version) + " died (" + how + ")";
    status_.seq++;
    last_outcome_ = "failed: " + status_.last_error;
    spdlog::warn("checkpoint failed: {} before committing it; the program keeps running and the previous "
                 "checkpoints are intact", status_.last_error);
    fx_.publish(status_);
    on_checkpoint_ended(StatusMessage{}, now);
}

// Committed, failed or refused: the request is answered; a ckptctl request that waited goes now.
void Supervision::on_checkpoint_ended(const StatusMessage &, TimePoint now)
{
    request_ = Request::Idle;
    send_failed_ = false;
    if (explicit_pending_) {
        explicit_pending_ = false;
        request_checkpoint("ckptctl", now);
    } else {
        log_overhead(now);
    }
}

void Supervision::request_checkpoint(const char *why, TimePoint now)
{
    if (!ready()) {
        spdlog::debug("checkpoint ({}) skipped: the program is not ready yet", why);
        return;
    }
    // A forked writer still writes: the next checkpoint waits for it (never two at once).
    if (request_ == Request::Writing || writing_open_) {
        spdlog::debug("checkpoint ({}) waits: version {} is still being written", why, writing_version_);
        if (std::string(why) == "ckptctl") explicit_pending_ = true;
        return;
    }
    if (schedule_.stale(now)) {
        spdlog::warn("the checkpoint requested last has not ended after a long time; asking again");
        schedule_.abandoned(now);
        request_ = Request::Idle;
    }
    if (schedule_.outstanding()) {
        spdlog::debug("checkpoint ({}) coalesced with the one in progress", why);
        return;
    }
    spdlog::debug("checkpoint requested ({})", why);
    // --no-fork, or a writer that could not see all memory: the request says "synchronous"
    // (sigqueue with kSyncTag); otherwise a plain signal, which the runtime may fork for.
    const bool sync = cfg_.no_fork || fork_unsafe_;
    if (int err = sync ? fx_.poll_program(cfg_.signal, int(kSyncTag << 16)) : fx_.signal_program(cfg_.signal); err == 0) {
        schedule_.requested(now);
        request_ = Request::Requested;
        send_failed_ = false;
    } else {
        schedule_.abandoned(now);
        // E.g. EAGAIN: the user's queue of pending real-time signals is full.
        status_.failures++;
        status_.last_error = std::string("cannot send the checkpoint signal: ") + std::strerror(err);
        status_.seq++;
        send_failed_ = true;
        fx_.publish(status_);
        spdlog::warn("checkpoint ({}) not requested: {}", why, status_.last_error);
    }
}

// The next periodic checkpoint pushed back by --max-overhead: said once a minute (debug between).
void Supervision::log_overhead(TimePoint now)
{
    const auto delay = schedule_.overhead_delay();
    if (schedule_.outstanding() || delay.count() <= 0 || schedule_.next_periodic() == TimePoint::max()) return;
    const bool loud = overhead_logged_ == TimePoint{} || now - overhead_logged_ > std::chrono::minutes(1);
    if (loud) overhead_logged_ = now;
    spdlog::log(loud ? spdlog::level::info : spdlog::level::debug,
                "next checkpoint delayed by {}: the recent checkpoints stopped the program for {} each, "
                "and --max-overhead {}% bounds the share of time it spends stopped",
                format_duration(delay), ms(uint64_t(schedule_.recent_pause().count())), schedule_.max_overhead_pct());
}

void Supervision::kill_hung(const std::string &why)
{
    if (out_.hung || exited()) return;
    out_.hung = true;
    out_.message = "hung: " + why;
    spdlog::warn("program pid {} is hung ({}); killing it", child_, why);
    fx_.signal_program(SIGKILL);
}

// Hang detection, systemd's watchdog and the stop deadline, every kWatchdogTick.
void Supervision::watchdog(TimePoint now)
{
    if (sd_watchdog_usec_ && ready() && !out_.hung && now >= next_sd_ping_) {
        fx_.notify_watchdog();
        next_sd_ping_ = now + std::chrono::microseconds(sd_watchdog_usec_ / 2);
    }
    if (out_.stop_requested) {
        if (now > stop_deadline_ && !out_.hung) {
            spdlog::warn("program pid {} did not stop within {}; killing it", child_, format_duration(cfg_.stop_timeout));
            fx_.signal_program(SIGKILL);
            stop_deadline_ = TimePoint::max();
        }
        return;
    }
    if (!ready()) return;
    // A checkpoint in progress keeps the handler busy legitimately and does not count, unless
    // the process is stopped or the checkpoint takes unreasonably long.
    // The program runs while a forked writer writes: that time counts.
    bool checkpoint_running = schedule_.outstanding() && request_ != Request::Writing;
    if (checkpoint_running && (fx_.program_stopped() || schedule_.stale(now))) {
        schedule_.abandoned(now);
        request_ = Request::Idle;
        checkpoint_running = false;
    }
    if (checkpoint_running && poll_outstanding_) poll_sent_ = now;
    if (cfg_.heartbeat.count() && !checkpoint_running && now - last_alive_ > cfg_.heartbeat) {
        kill_hung("no heartbeat for " + format_duration(cfg_.heartbeat));
        for (uint64_t v : unconfirmed_) {
            spdlog::warn("discarding checkpoint version {}: taken after the last heartbeat, it may hold the hung state", v);
            fx_.discard(v);
        }
        unconfirmed_.clear();
    }
    if (cfg_.poll.count() && !checkpoint_running) {
        if (poll_outstanding_ && now - poll_sent_ > cfg_.poll) {
            kill_hung("no answer to the watchdog's poll within " + format_duration(cfg_.poll) +
                      " (stopped, or the runtime cannot run)");
        } else if (!poll_outstanding_ && now >= next_poll_) {
            poll_seq_ = (poll_seq_ + 1) & 0xffff;
            if (fx_.poll_program(cfg_.signal, int((kPollTag << 16) | poll_seq_)) == 0) {
                poll_outstanding_ = true;
                poll_sent_ = now;
            }
        }
    }
}

// ---- stalls ---------------------------------------------------------------------------------

// Why no checkpoint happens; empty while a request is in flight or one is just due (then the
// reason given before still explains the stall best).
std::string Supervision::stall_reason(TimePoint now) const
{
    if (phase_ == Phase::Starting)
        return "not ready: the program's runtime has not reported since it started (is libckpt.so loaded in it?)";
    if (suspended_) return "the program is stopped (" + signal_name(stop_signal_) + "); checkpoints resume when it continues";
    if (request_ == Request::Deferred)
        return "deferred by the runtime: " + deferred_why_ + " (a write to a full pipe?); the checkpoint is taken "
               "when it returns";
    if (request_ == Request::Writing)
        return "version " + std::to_string(writing_version_) + " is still being written by a forked writer (pid " +
               std::to_string(writer_pid_) + ") after " + ms(uint64_t((now - writing_since_).count())) +
               " (a slow disk?)";
    if (request_ == Request::Requested) {
        if (now - schedule_.requested_at() < std::max<std::chrono::nanoseconds>(schedule_.interval(), std::chrono::seconds(1)))
            return {};
        return "no answer to the checkpoint signal (the program blocks or ignores it, or exec'd a program without "
               "ckpt's runtime)";
    }
    if (send_failed_) return status_.last_error;
    if (!last_outcome_.empty()) return last_outcome_;
    if (schedule_.overhead_delay().count() > 0)
        return "delayed by --max-overhead (" + ms(uint64_t(schedule_.overhead_delay().count())) +
               " beyond the interval): each checkpoint stopped the program for " +
               ms(uint64_t(schedule_.recent_pause().count()));
    if (phase_ == Phase::Stopping) return "the program is stopping";
    return {};
}

void Supervision::update_stall(TimePoint now)
{
    if (exited() || !stall_.overdue(now, schedule_.interval())) return;
    std::string reason = stall_reason(now);
    if (reason.empty()) {
        if (stall_.stalled()) return;
        reason = request_ == Request::Requested ? "a checkpoint was requested and has not ended yet"
                                                : "no checkpoint came due yet";
    }
    const auto change = stall_.report(reason);
    if (change == CheckpointStall::Change::None) return;
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(now - stall_.since());
    if (change == CheckpointStall::Change::Began)
        spdlog::warn("checkpoints stalled: none for {}, more than twice the interval ({}): {}", format_duration(gap),
                     format_duration(schedule_.interval()), reason);
    else
        spdlog::warn("checkpoints still stalled after {}: {}", format_duration(gap), reason);
    status_.stalled_since_ns = realtime_ns() - (now - stall_.since()).count();
    status_.stall_reason = reason;
    fx_.publish(status_);
}

}  // namespace ckpt
