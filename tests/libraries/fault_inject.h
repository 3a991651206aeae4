// Fault injection for the contract tests (linked into ckp_contract_tests only).
//   Allocation failure: a replacement of the global operator new (fault_inject.cpp) that, while
//   armed, counts allocations and fails the k-th one (std::bad_alloc, or nullptr for nothrow).
//   Only C++ allocations are counted: malloc (SQLite's, stdio's) is not interposed.
//   Store I/O failure: RLIMIT_FSIZE 0 with SIGXFSZ ignored, so that every write to a regular
//   file fails with EFBIG while a NoFileWrites is alive.
#pragma once

#include <csignal>
#include <sys/resource.h>

namespace fault {

void arm_alloc_failure(long k);  // the k-th allocation from now fails (k >= 1)
bool disarm();                   // stops counting; true when the failure was injected

class NoFileWrites {
public:
    NoFileWrites()
    {
        old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &old_);
        struct rlimit none = old_;
        none.rlim_cur = 0;
        setrlimit(RLIMIT_FSIZE, &none);
    }
    ~NoFileWrites()
    {
        setrlimit(RLIMIT_FSIZE, &old_);
        std::signal(SIGXFSZ, old_handler_);
    }
    NoFileWrites(const NoFileWrites &) = delete;
    NoFileWrites &operator=(const NoFileWrites &) = delete;

private:
    struct rlimit old_{};
    void (*old_handler_)(int) = nullptr;
};

}  // namespace fault
