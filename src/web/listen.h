/* listen.h - the FastCGI listening socket: "unix:/path" (mode and group
 * applied), "HOST:PORT" for TCP (loopback expected; anything else is
 * warned about, FastCGI has no authentication), "fd:N" for a socket
 * inherited on descriptor N (spawn-fcgi hands over fd 0), or "systemd" for
 * the one socket of systemd's socket activation (LISTEN_PID, LISTEN_FDS:
 * descriptor 3; the variables are removed so children do not see them). */
#ifndef TODO_LISTEN_H
#define TODO_LISTEN_H

#include <stddef.h>

#include "status.h"

enum td_status listen_open(const char *spec, int mode, const char *group,
    int backlog, int *fd, char *err, size_t errlen);
/* Removes the unix socket file, if spec named one. */
void listen_cleanup(const char *spec);

/* The listening socket fd's accept queue: connections the kernel has
 * completed that no worker has accepted yet (*queued), and its limit, the
 * backlog listen() got, capped by net.core.somaxconn (*backlog). TCP:
 * TCP_INFO; unix: the sock_diag netlink interface (the socket found by its
 * inode). TD_EINVAL when fd is not a listening TCP or unix socket,
 * TD_ESYSTEM when the kernel does not say (errno set). */
enum td_status listen_queue(int fd, int *queued, int *backlog);

#endif
