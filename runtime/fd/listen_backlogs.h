// The backlog of each listening socket. The kernel does not report it for every family
// (TCP_INFO does for TCP, nothing does for a unix socket short of sock_diag), so the listen()
// wrapper (interpose/socket_wrappers.cpp) records what the program asked for, keyed by the
// descriptor and the socket's inode, and a restore re-listens with it. The table is the
// runtime's memory, so it comes back with the image.
#pragma once

#include <stdint.h>

namespace ckpt::fd {

// After a successful listen(fd, backlog) on the socket (dev, ino); a later call on the same
// socket replaces it. False when the table is full (a checkpoint of that socket is then
// refused).
bool note_listen_backlog(int fd, uint64_t dev, uint64_t ino, int backlog);

// The backlog recorded for the socket (dev, ino), through whichever descriptor (a dup of it
// has the same inode); false if none. Async-signal-safe.
bool listen_backlog(uint64_t dev, uint64_t ino, int &backlog);

}  // namespace ckpt::fd
