// The runtime's link to its launcher, used from the checkpoint handler (so on the checked
// handler path, check_handler_path.cmake): status records, the checkpoint signal's handler
// after a restore, the parent-death watch. Raw system calls only.
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "runtime_state.h"
#include "signal_state.h"
#include "sys/raw_syscall.h"
#include "text.h"

namespace ckpt {

void report(StatusType type, int err, uint64_t version, uint64_t bytes, uint64_t ns_a,
            uint64_t ns_b, const char *msg)
{
    StatusMessage m{};
    m.magic = kStatusMagic;
    m.type = type;
    m.pid = g_rt.report_pid ? g_rt.report_pid : int32_t(sys_getpid());
    m.err = err;
    m.version = version;
    m.bytes = bytes;
    m.ns_a = ns_a;
    m.ns_b = ns_b;
    if (msg) text::Builder(m.text, sizeof m.text).add(msg);
    if (g_rt.status_fd >= 0) {
        // MSG_NOSIGNAL: a launcher that died must not kill the program with SIGPIPE (in the
        // handler every signal is blocked, and the SIGPIPE would strike once it returns).
        long n = sys_sendto(g_rt.status_fd, &m, sizeof m, MSG_NOSIGNAL);
        if (n == -ENOTSOCK) n = sys_write(g_rt.status_fd, &m, sizeof m);
        if (n == long(sizeof m)) return;
    }
    if (type == StatusType::Ready || type == StatusType::CheckpointDone || type == StatusType::Restored) return;
    char line[160];
    text::Builder b(line, sizeof line);
    b.add("libckpt: ").add(m.text);
    if (err) b.add(" (errno ").add(uint64_t(err)).add(")");
    b.add("\n");
    sys_write(2, line, b.size());
}

void reinstall_handler(int sig)
{
    if (sig > 0 && sig <= 64) {
        g_rt.signal = sig;
        sigstate::own_checkpoint_signal(sig, on_checkpoint_signal, false);
    }
}

bool watch_launcher(int sig)
{
    sys_prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(sig), 0, 0, 0);
    // Checked after arming: a launcher that died just before would never send the signal.
    return !launcher_died();
}

bool launcher_died()
{
    return g_rt.status_fd >= 0 && g_rt.launcher_pid > 0 && sys_getppid() != g_rt.launcher_pid;
}

void die_without_launcher()
{
    for (;;) sys_kill(int(sys_getpid()), SIGKILL);
}

}  // namespace ckpt
