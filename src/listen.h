/* listen.h - the FastCGI listening socket: "unix:/path" (mode and group
 * applied), "HOST:PORT" for TCP (loopback expected; anything else is
 * warned about, FastCGI has no authentication), or "fd:0" for a socket
 * inherited from spawn-fcgi or a service manager. */
#ifndef TODO_LISTEN_H
#define TODO_LISTEN_H

#include <stddef.h>

#include "status.h"

enum td_status listen_open(const char *spec, int mode, const char *group,
    int backlog, int *fd, char *err, size_t errlen);
/* Removes the unix socket file, if spec named one. */
void listen_cleanup(const char *spec);

#endif
