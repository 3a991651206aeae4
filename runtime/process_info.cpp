#include "process_info.h"

#include <errno.h>
#include <fcntl.h>

#include "runtime_state.h"
#include "sys/raw_syscall.h"
#include "text.h"

namespace ckpt {

namespace {

// Fields of /proc/self/stat after the command name, numbered as in proc(5).
bool stat_fields(const char *buf, size_t len, uint64_t *out, int first, int last)
{
    const char *p = buf + len;
    while (p > buf && *p != ')') --p;  // the command name may contain anything but ends at the last ')'
    if (p == buf) return false;
    ++p;
    const char *end = buf + len;
    int field = 2;
    while (p < end && field < last) {
        while (p < end && *p == ' ') ++p;
        ++field;
        uint64_t v = 0;
        const char *s = p;
        bool neg = p < end && *p == '-';
        if (neg) ++p;
        text::parse_u64(p, end, v);
        if (p == s) ++p;  // the state letter
        while (p < end && *p != ' ') ++p;
        if (field >= first && field <= last) out[field - first] = neg ? 0 : v;
    }
    return field >= last;
}

}  // namespace

CaptureError capture_process(CaptureSet &set)
{
    CaptureError err;
    image::ProcessRecord &pr = set.process;
    long n = read_proc_file("/proc/self/stat", set.scratch, set.scratch_size);
    if (n < 0) { err.err = int(-n); err.what = "cannot read /proc/self/stat"; return err; }
    uint64_t f[52 - 20 + 1] = {};
    if (!stat_fields(set.scratch, size_t(n), f, 20, 52)) {
        err.err = 71; err.what = "cannot parse /proc/self/stat"; return err;
    }
    auto field = [&](int i) { return f[i - 20]; };
    pr.mm.start_code = field(26);
    pr.mm.end_code = field(27);
    pr.mm.start_stack = field(28);
    pr.mm.start_data = field(45);
    pr.mm.end_data = field(46);
    pr.mm.start_brk = field(47);
    pr.mm.arg_start = field(48);
    pr.mm.arg_end = field(49);
    pr.mm.env_start = field(50);
    pr.mm.env_end = field(51);
    pr.mm.brk = uint64_t(sys_brk(0));

    char path[64];
    long tid = sys_gettid();
    text::Builder(path, sizeof path).add("/proc/self/task/").add(uint64_t(tid)).add("/children");
    n = read_proc_file(path, set.scratch, set.scratch_size);
    if (n > 0) {
        err.err = 95;
        err.what = "the process has child processes";
        text::Builder(err.detail, sizeof err.detail).add("child pid ").add(set.scratch, 12);
        return err;
    }

    n = sys_readlinkat(AT_FDCWD, "/proc/self/exe", set.scratch, set.scratch_size - 1);
    pr.exe_path = n > 0 ? set.strings.add(set.scratch, size_t(n)) : image::kNoString;
    n = sys_readlinkat(AT_FDCWD, "/proc/self/cwd", set.scratch, set.scratch_size - 1);
    pr.cwd = n > 0 ? set.strings.add(set.scratch, size_t(n)) : image::kNoString;
    n = read_proc_file("/proc/self/cmdline", set.scratch, 4096);
    if (n == -E2BIG) n = 4095;
    if (n > 0) {
        while (n > 0 && set.scratch[n - 1] == 0) --n;
        for (long i = 0; i < n; ++i)
            if (set.scratch[i] == 0) set.scratch[i] = ' ';
        pr.cmdline = set.strings.add(set.scratch, size_t(n));
    } else {
        pr.cmdline = image::kNoString;
    }
    pr.command_id = g_rt.command_id[0] ? set.strings.add(g_rt.command_id, text::length(g_rt.command_id))
                                       : image::kNoString;
    long old = sys_umask(0);
    sys_umask(int(old));
    pr.umask = uint32_t(old);
    pr.pid = int32_t(sys_getpid());
    return err;
}

uint32_t find_tid_offset()
{
    // glibc keeps the thread id in struct pthread, which starts at the thread pointer. Its
    // offset is private to glibc, so look for the one 4-byte slot holding our tid (the TCB
    // header before it holds pointers and the stack guard, which cannot match by chance in
    // both halves of a 64-bit word equal to a small tid).
    uint64_t fs = 0;
    if (sys_arch_prctl(0x1003 /* ARCH_GET_FS */, reinterpret_cast<unsigned long>(&fs)) != 0) return 0;
    const int32_t tid = int32_t(sys_gettid());
    const auto *tcb = reinterpret_cast<const int32_t *>(fs);
    uint32_t found = 0;
    int matches = 0;
    for (uint32_t off = 0x40; off < 0x400; off += 4) {
        if (tcb[off / 4] == tid) {
            if (++matches == 1) found = off;
        }
    }
    return matches == 1 ? found : 0;
}

}  // namespace ckpt
