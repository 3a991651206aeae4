// The launcher's view of one run of the program, as a state machine: what it knows (the
// program's phase, the one outstanding checkpoint request, the watchdog's deadlines, whether
// checkpoints are stalled and why) and one transition function for everything that happens
// (a status record from the runtime, the timer, a signal to ckpt-run, the child stopping,
// continuing or exiting). It does nothing itself: signals, the status file and systemd go
// through SupervisionEffects, and time is given with every event, so that the unit tests
// drive it with a fake clock and no processes (tests/unit/supervision_test.cpp).
//
//   Starting ──Ready/Restored──▶ Running ──SIGTERM etc. passed on──▶ Stopping
//       └──────────────┴──────────────────────────┴──child exit──▶ Exited
//
// The checkpoint request is a second, orthogonal part (Idle, Requested, Deferred: the
// runtime said it takes the checkpoint when the program's current call returns), kept with
// its timing by CheckpointSchedule; CheckpointStall says when and why none has happened.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint_schedule.h"
#include "checkpoint_stall.h"
#include "job_dir.h"
#include "status_protocol.h"
#include "supervisor.h"

namespace ckpt {

// What the machine asks of the world. The real one (supervisor.cpp) acts on the child; the
// unit tests record the calls.
class SupervisionEffects {
public:
    virtual ~SupervisionEffects() = default;
    virtual int signal_program(int sig) = 0;           // kill(): 0, or the errno
    virtual int poll_program(int sig, int value) = 0;  // sigqueue(): 0, or the errno
    virtual bool program_stopped() = 0;                // stopped by a signal or a tracer (/proc)
    virtual void publish(const JobStatus &status) = 0; // the status file
    virtual void prune(size_t retain) = 0;             // keep the newest `retain` versions (0: all)
    virtual void discard(uint64_t version) = 0;        // delete one version
    virtual void discard_temp(uint64_t version) = 0;   // delete the temporary image of a version
    virtual void kill_writer(int pid) = 0;             // SIGKILL a forked writer (ckpt-run's child)
    virtual void notify_running(bool restored) = 0;    // systemd: READY=1 (once), STATUS=
    virtual void notify_watchdog() = 0;                // systemd: WATCHDOG=1
};

struct SupervisionEvent {
    enum class Kind {
        Record,          // a status record from the runtime (record)
        Timer,           // next_wakeup() has come
        Signal,          // ckpt-run received signo (SIGUSR1: checkpoint now; others: stop)
        ChildStopped,    // the program was stopped by signo (SIGSTOP, SIGTSTP, ...)
        ChildContinued,  // ... and continued
        ChildExited,     // wait_status
        WriterExited,    // a process other than the program ended: pid, wait_status
    } kind;
    StatusMessage record{};
    int signo = 0;
    int wait_status = 0;
    int pid = 0;
};

class Supervision {
public:
    using Clock = CheckpointSchedule::Clock;
    using TimePoint = CheckpointSchedule::TimePoint;
    enum class Phase { Starting, Running, Stopping, Exited };
    // Writing: the program went on and a forked writer writes the version; the request ends
    // when the writer reports the commit or failure, or is found dead.
    enum class Request { Idle, Requested, Deferred, Writing };

    // The program (pid `child`, started at `now`) runs under `cfg`; `out` and `status` are
    // filled as it goes. sd_watchdog_usec: systemd's WatchdogSec= (0 = none).
    Supervision(const RunConfig &cfg, const std::string &job_path, int child, bool restoring,
                uint64_t sd_watchdog_usec, RunOutcome &out, JobStatus &status, SupervisionEffects &fx,
                TimePoint now);

    // The transition function.
    void handle(const SupervisionEvent &e, TimePoint now);
    // When a Timer event is due next (TimePoint::max(): only other events matter).
    TimePoint next_wakeup() const;

    Phase phase() const { return phase_; }
    Request request() const { return request_; }
    bool exited() const { return phase_ == Phase::Exited; }
    // A forked writer that has not been reaped yet: ckpt-run waits for it before it exits.
    bool writer_running() const { return writer_pid_ != 0; }
    int writer_pid() const { return writer_pid_; }
    bool suspended() const { return suspended_; }
    const CheckpointStall &stall() const { return stall_; }
    const CheckpointSchedule &schedule() const { return schedule_; }
    static constexpr auto kWatchdogTick = std::chrono::milliseconds(50);

private:
    // Transitions, one per event kind (record kinds in on_record).
    void on_record(const StatusMessage &m, TimePoint now);
    void on_timer(TimePoint now);
    void on_signal(int sig, TimePoint now);
    void on_ready(TimePoint now);
    void on_checkpoint_ended(const StatusMessage &m, TimePoint now);
    void on_writing(const StatusMessage &m, TimePoint now);
    void on_writer_exited(int pid, int wait_status, TimePoint now);
    void end_writing();
    // When the forked writer of writing_version_ is given up (TimePoint::max(): never).
    TimePoint writer_deadline() const;
    void kill_hung_writer(TimePoint now);
    void watchdog(TimePoint now);

    void request_checkpoint(const char *why, TimePoint now);
    void kill_hung(const std::string &why);
    void log_overhead(TimePoint now);
    // Stall detection after every event: begins, changes reason or ends (log and status).
    void update_stall(TimePoint now);
    std::string stall_reason(TimePoint now) const;
    bool ready() const { return phase_ != Phase::Starting; }
    bool watchdog_on() const;

    const RunConfig &cfg_;
    std::string job_path_;
    int child_;
    uint64_t sd_watchdog_usec_;
    RunOutcome &out_;
    JobStatus &status_;
    SupervisionEffects &fx_;

    Phase phase_ = Phase::Starting;
    Request request_ = Request::Idle;
    bool suspended_ = false;        // stopped by a signal (SIGSTOP): no request is sent meanwhile
    int stop_signal_ = 0;
    bool explicit_pending_ = false; // a ckptctl request that came while one was outstanding
    bool send_failed_ = false;      // the last request could not be sent (status_.last_error)
    std::string last_outcome_;      // "refused: ..." or "failed: ..." since the last commit
    std::string deferred_why_;
    CheckpointSchedule schedule_;
    CheckpointStall stall_;
    TimePoint overhead_logged_{};

    // Watchdog.
    TimePoint last_alive_{}, poll_sent_{}, next_poll_{}, stop_deadline_{}, next_sd_ping_{};
    TimePoint next_tick_ = TimePoint::max();
    bool poll_outstanding_ = false;
    uint32_t poll_seq_ = 0;
    std::vector<uint64_t> unconfirmed_;  // versions committed since the last heartbeat

    // The forked writer (runtime/forked_writer.h): its pid until it is reaped; the version it
    // writes, while neither its commit nor its failure has been reported.
    int writer_pid_ = 0;
    uint64_t writing_version_ = 0;
    bool writing_open_ = false;
    // The newest version whose commit or failure was reported: the writer may report before
    // the program's CheckpointWriting arrives (a small image), which then opens nothing.
    uint64_t ended_version_ = 0;
    uint64_t writing_pause_ns_ = 0;
    TimePoint writing_since_{};
    // How long the last forked write that committed took (for --writer-timeout=auto).
    std::chrono::nanoseconds last_write_{};
    // A writer could not see all of the program's memory: every request from now on asks for
    // a synchronous checkpoint, and the one it could not write is asked again at once.
    bool fork_unsafe_ = false;
    bool retry_sync_ = false;
};

}  // namespace ckpt
