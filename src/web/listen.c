/* listen.c - see listen.h. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static enum td_status
open_unix(const char *path, int mode, const char *group, int backlog, int *out,
    char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	struct group *gr;
	int fd = -1, bound = 0;
	enum td_status rc = TD_ESYSTEM;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "TODO_LISTEN: socket path too long: %s", path);
		return TD_EINVAL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	/* A socket file left by a previous run is replaced; another kind of
	 * file is never removed. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "TODO_LISTEN: %s exists and is not a socket", path);
			return TD_EINVAL;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			snprintf(err, errlen, "TODO_LISTEN: %s is in use by another process", path);
			return TD_EINVAL;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto fail;
	bound = 1;
	if (chmod(path, (mode_t)mode) != 0)
		goto fail;
	if (group != NULL && group[0] != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "TODO_SOCKET_GROUP: no group named %s", group);
			rc = TD_EINVAL;
			goto out;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
			goto fail;
	}
	if (listen(fd, backlog) != 0)
		goto fail;
	*out = fd;
	return TD_OK;
fail:
	snprintf(err, errlen, "TODO_LISTEN: %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (bound)
		unlink(path);     /* no half-made socket left behind */
	return rc;
}

static enum td_status
open_tcp(const char *spec, int backlog, int *out, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL, *p;
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t hlen;
	int fd = -1, one = 1, e;

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		snprintf(err, errlen, "TODO_LISTEN: \"%s\" is not unix:/path, HOST:PORT, fd:N or systemd", spec);
		return TD_EINVAL;
	}
	hlen = (size_t)(colon - spec);
	if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "TODO_LISTEN: host name too long");
		return TD_EINVAL;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		snprintf(err, errlen, "TODO_LISTEN: %s: %s", host, gai_strerror(e));
		return TD_EINVAL;
	}
	for (p = ai; p != NULL; p = p->ai_next) {
		if ((fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, backlog) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "TODO_LISTEN: cannot listen on %s:%s: %s", host,
		    colon + 1, strerror(errno));
		freeaddrinfo(ai);
		return TD_ESYSTEM;
	}
	if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 &&
	    strcmp(host, "localhost") != 0)
		log_warn("FastCGI has no authentication: listening on %s exposes the app beyond this host", host);
	freeaddrinfo(ai);
	*out = fd;
	return TD_OK;
}

/* The descriptor of "fd:N" or "systemd"; -1 with a message if there is
 * none. */
static int
inherited_fd(const char *spec, char *err, size_t errlen)
{
	const char *pid, *fds;
	char *end;
	long n;

	if (strcmp(spec, "systemd") != 0) {
		errno = 0;
		n = strtol(spec + 3, &end, 10);
		if (spec[3] < '0' || spec[3] > '9' || *end != '\0' || errno != 0 ||
		    n > 1023) {
			snprintf(err, errlen, "TODO_LISTEN: \"%s\" is not fd:N (a descriptor number)", spec);
			return -1;
		}
		return (int)n;
	}
	pid = getenv("LISTEN_PID");
	fds = getenv("LISTEN_FDS");
	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid()) {
		snprintf(err, errlen, "TODO_LISTEN=systemd but no socket was passed to this process (LISTEN_PID/LISTEN_FDS: start it from a .socket unit)");
		return -1;
	}
	if (strcmp(fds, "1") != 0) {
		snprintf(err, errlen, "TODO_LISTEN=systemd expects exactly one socket, got LISTEN_FDS=%s", fds);
		return -1;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;     /* SD_LISTEN_FDS_START */
}

enum td_status
listen_open(const char *spec, int mode, const char *group, int backlog,
    int *fd, char *err, size_t errlen)
{
	int accepting = 0, n;
	socklen_t len = sizeof(accepting);

	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(spec + 5, mode, group, backlog, fd, err, errlen);
	if (strncmp(spec, "fd:", 3) == 0 || strcmp(spec, "systemd") == 0) {
		if ((n = inherited_fd(spec, err, errlen)) < 0)
			return TD_EINVAL;
		if (getsockopt(n, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) {
			snprintf(err, errlen, "TODO_LISTEN=%s but descriptor %d is not a listening socket",
			    spec, n);
			return TD_EINVAL;
		}
		*fd = n;
		return TD_OK;
	}
	return open_tcp(spec, backlog, fd, err, errlen);
}

void
listen_cleanup(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		unlink(spec + 5);
}

/* A listening TCP socket's tcp_info: tcpi_unacked is its accept queue
 * (sk_ack_backlog), tcpi_sacked the queue's limit (sk_max_ack_backlog). */
static enum td_status
tcp_queue(int fd, int *queued, int *backlog)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return TD_ESYSTEM;
	if (ti.tcpi_state != TCP_LISTEN)
		return TD_EINVAL;
	*queued = (int)ti.tcpi_unacked;
	*backlog = (int)ti.tcpi_sacked;
	return TD_OK;
}

/* A unix socket has no such option: ask sock_diag for the one socket with
 * this inode. For a listener, UNIX_DIAG_RQLEN's rqueue is the number of
 * connections waiting, wqueue the backlog. */
static enum td_status
unix_queue(int fd, int *queued, int *backlog)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr nlh;
		char b[8192];
	} a;
	struct unix_diag_msg *msg;
	struct unix_diag_rqlen rq;
	struct nlmsghdr *h;
	struct rtattr *at;
	struct stat st;
	ssize_t got;
	int s, n, len, found = 0, saved;
	enum td_status rc = TD_ESYSTEM;

	if (fstat(fd, &st) != 0)
		return TD_ESYSTEM;
	if ((s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0)
		return TD_ESYSTEM;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST;
	q.nlh.nlmsg_seq = 1;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = 1U << TCP_LISTEN;
	q.req.udiag_ino = (unsigned)st.st_ino;
	q.req.udiag_show = UDIAG_SHOW_RQLEN;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;   /* no cookie */
	if (sendto(s, &q, sizeof(q), 0, (struct sockaddr *)&nl, sizeof(nl)) !=
	    (ssize_t)sizeof(q))
		goto out;
	while ((got = recv(s, a.b, sizeof(a.b), 0)) < 0 && errno == EINTR)
		continue;
	if (got < 0)
		goto out;
	n = (int)got;
	/* NLMSG_OK spelled out: the macro compares the unsigned length with an
	 * int, which clang's -Wsign-compare rejects. */
	for (h = &a.nlh; n >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	    h->nlmsg_len <= (unsigned)n; h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			errno = e->error < 0 ? -e->error : EPROTO;
			goto out;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*msg)))
			continue;
		msg = NLMSG_DATA(h);
		if (msg->udiag_ino != (unsigned)st.st_ino)
			continue;
		if (msg->udiag_state != TCP_LISTEN) {
			rc = TD_EINVAL;        /* not listening */
			goto out;
		}
		len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
		for (at = (struct rtattr *)(msg + 1); RTA_OK(at, len);
		    at = RTA_NEXT(at, len))
			if (at->rta_type == UNIX_DIAG_RQLEN &&
			    RTA_PAYLOAD(at) >= sizeof(rq)) {
				memcpy(&rq, RTA_DATA(at), sizeof(rq));
				*queued = (int)rq.udiag_rqueue;
				*backlog = (int)rq.udiag_wqueue;
				found = 1;
			}
	}
	if (found)
		rc = TD_OK;
	else
		errno = ENOENT;
out:
	saved = errno;
	close(s);
	errno = saved;
	return rc;
}

enum td_status
listen_queue(int fd, int *queued, int *backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int accepting = 0;
	socklen_t alen = sizeof(accepting);

	*queued = *backlog = -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return errno == ENOTSOCK || errno == EBADF ? TD_EINVAL : TD_ESYSTEM;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &alen) != 0 ||
	    !accepting)
		return TD_EINVAL;
	switch (ss.ss_family) {
	case AF_INET:
	case AF_INET6:
		return tcp_queue(fd, queued, backlog);
	case AF_UNIX:
		return unix_queue(fd, queued, backlog);
	default:
		return TD_EINVAL;
	}
}
