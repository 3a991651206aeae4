// Start-up of libckpt.so inside the program: read the launcher's settings from the
// environment, install the checkpoint signal handler, tell the launcher it may send it.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "process_info.h"
#include "runtime_state.h"
#include "sys/raw_syscall.h"
#include "text.h"

namespace ckpt {

RuntimeState g_rt;

uint64_t monotonic_ns()
{
    struct timespec ts{};
    sys_clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void report(StatusType type, int err, uint64_t version, uint64_t bytes, uint64_t ns_a,
            uint64_t ns_b, const char *msg)
{
    StatusMessage m{};
    m.magic = kStatusMagic;
    m.type = type;
    m.pid = int32_t(sys_getpid());
    m.err = err;
    m.version = version;
    m.bytes = bytes;
    m.ns_a = ns_a;
    m.ns_b = ns_b;
    if (msg) text::Builder(m.text, sizeof m.text).add(msg);
    if (g_rt.status_fd >= 0 && sys_write(g_rt.status_fd, &m, sizeof m) == long(sizeof m)) return;
    if (type == StatusType::Ready || type == StatusType::CheckpointDone || type == StatusType::Restored) return;
    char line[160];
    text::Builder b(line, sizeof line);
    b.add("libckpt: ").add(m.text);
    if (err) b.add(" (errno ").add(uint64_t(err)).add(")");
    b.add("\n");
    sys_write(2, line, b.size());
}

namespace {

int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end = nullptr;
    long n = strtol(v, &end, 10);
    return (end && *end == 0) ? int(n) : fallback;
}

__attribute__((constructor)) void runtime_init()
{
    const char *dir = getenv("CKPT_JOB_DIR");
    g_rt.signal = env_int("CKPT_SIGNAL", 0);
    g_rt.launcher_pid = env_int("CKPT_LAUNCHER_PID", 0);
    // Only the launcher's own child takes checkpoints; processes it starts inherit the
    // environment but stay passive (process trees are a later phase).
    if (!dir || g_rt.signal <= 0 || g_rt.signal > 64 || g_rt.launcher_pid != int(getppid())) return;
    g_rt.status_fd = env_int("CKPT_STATUS_FD", -1);
    text::Builder(g_rt.job_dir, sizeof g_rt.job_dir).add(dir);
    g_rt.tid_offset = find_tid_offset();
    for (int fd = 0; fd < 3; ++fd) {
        struct stat st;
        if (sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            g_rt.std_dev[fd] = st.st_dev;
            g_rt.std_ino[fd] = st.st_ino;
        }
    }

    struct sigaction sa {};
    sa.sa_sigaction = on_checkpoint_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);  // nothing may change memory while it is being saved
    if (sigaction(g_rt.signal, &sa, nullptr) != 0) {
        report(StatusType::CheckpointFailed, errno, 0, 0, 0, 0, "cannot install the checkpoint signal handler");
        return;
    }
    g_rt.active = true;
    events::program_start();
    report(StatusType::Ready, 0, 0, 0, 0, 0, nullptr);
}

}  // namespace
}  // namespace ckpt
