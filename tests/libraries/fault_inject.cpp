// The allocation-failure half of fault_inject.h: the global operator new replaced.
#include "fault_inject.h"

#include <cstdlib>
#include <new>

namespace {

long countdown = 0;  // > 0 while armed: the allocation that brings it to 0 fails
bool injected = false;

bool fail_now()
{
    if (countdown <= 0) return false;
    if (--countdown > 0) return false;
    injected = true;
    return true;
}

void *allocate(std::size_t n)
{
    if (fail_now()) return nullptr;
    return std::malloc(n ? n : 1);
}

}  // namespace

namespace fault {

void arm_alloc_failure(long k)
{
    injected = false;
    countdown = k;
}

bool disarm()
{
    countdown = 0;
    return injected;
}

}  // namespace fault

void *operator new(std::size_t n)
{
    if (void *p = allocate(n)) return p;
    throw std::bad_alloc();
}
void *operator new[](std::size_t n)
{
    if (void *p = allocate(n)) return p;
    throw std::bad_alloc();
}
void *operator new(std::size_t n, const std::nothrow_t &) noexcept { return allocate(n); }
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept { return allocate(n); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { std::free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { std::free(p); }
