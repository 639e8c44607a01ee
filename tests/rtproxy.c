/* rtproxy.c - loopback TCP proxy that counts request/response round trips
 * and can add a fixed latency each way (a test and benchmark tool).
 *
 * rtproxy --listen 127.0.0.1:PORT --target HOST:PORT [--delay-ms N]
 *         [--port-file FILE] [--stats-file FILE] [--allow-non-loopback]
 *
 * The listen address must be loopback, unless --allow-non-loopback: then
 * one specific address is accepted too (never a wildcard), for a test
 * that exposes a loopback service to its own network namespaces on the
 * host end of their veth links (tests/e2e_multihost).
 *
 * A round trip starts whenever a client sends bytes and the last bytes seen
 * on that connection went the other way (or none went yet). SIGUSR1 writes
 * the counters to the stats file, SIGUSR2 zeroes them (and writes the file),
 * SIGTERM/SIGINT write it and exit 0. */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

#define QUEUE_MAX	(1024 * 1024)	/* stop reading a side past this */
#define READ_MAX	(64 * 1024)
#define DELAY_MAX_MS	600000
#define MAX_EVENTS	64

/* A direction is named by the index of the fd it reads from. */
enum { UP = 0, DOWN = 1, NONE = 2 };

struct chunk {
	struct chunk	*next;
	uint64_t	 due;		/* monotonic ns it may be forwarded at */
	size_t		 len;		/* 0 marks the end of the stream */
	size_t		 off;
	char		 data[];
};

struct dir {
	struct chunk	*head, *tail;
	size_t		 queued;	/* bytes not yet written */
	bool		 eof_read;	/* source hit EOF, marker queued */
	bool		 eof_sent;	/* destination shut down for writing */
	bool		 blocked;	/* destination said EAGAIN */
};

struct conn;

struct endpoint {
	struct conn	*c;
	int		 side;
};

struct conn {
	struct conn	*next;
	int		 fd[2];		/* client, server */
	uint32_t	 ev[2];		/* registered events, 0 = not in epoll */
	struct endpoint	 ep[2];
	struct dir	 d[2];		/* d[i] reads fd[i], writes fd[!i] */
	int		 last;		/* direction of the last bytes seen */
	bool		 connecting;
	bool		 dead;
};

struct proxy {
	int			 epfd, lfd, sigfd;
	struct sockaddr_storage	 target;
	socklen_t		 targetlen;
	uint64_t		 delay;	/* ns */
	const char		*stats_file;
	struct conn		*conns;
	uint64_t		 round_trips, connections;
	uint64_t		 bytes_up, bytes_down;
};

/* Tags telling the non-connection fds apart in epoll_event.data.ptr. */
static char tag_listen, tag_signal;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux; if it does, timing is moot. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
		log_error("clock_gettime: %s", strerror(errno));
		abort();
	}
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Split "host:port" or "[v6]:port" into bounded copies. */
static enum td_status
split_hostport(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon, *h = s;
	size_t n;

	if ((colon = strrchr(s, ':')) == NULL)
		return TD_EINVAL;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		h = s + 1;
		n -= 2;
	}
	if (n == 0 || n >= hostlen || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= portlen)
		return TD_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return TD_OK;
}

static enum td_status
resolve(const char *hostport, bool passive, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	char host[256], port[16];
	struct addrinfo hints, *res = NULL;
	enum td_status st;
	int rc;

	if ((st = split_hostport(hostport, host, sizeof(host), port,
	    sizeof(port))) != TD_OK) {
		log_error("bad address (want HOST:PORT): %s", hostport);
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_error("getaddrinfo %s: %s", hostport, gai_strerror(rc));
		st = TD_EINVAL;
		goto out;
	}
	if (res->ai_addrlen > sizeof(*ss)) {
		st = TD_EINVAL;
		goto out;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	st = TD_OK;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return st;
}

static bool
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return false;
}

/* Readers must never see a half-written file: write a temp and rename. */
static enum td_status
write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	enum td_status st = TD_ESYSTEM;
	size_t off = 0;
	ssize_t n;
	int fd = -1, rc;

	rc = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (rc < 0 || (size_t)rc >= sizeof(tmp))
		return TD_ETOOBIG;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		goto out;
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	rc = close(fd);
	fd = -1;
	if (rc == -1 || rename(tmp, path) == -1)
		goto out;
	st = TD_OK;
out:
	if (st != TD_OK) {
		log_error("write %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		unlink(tmp);
	}
	return st;
}

static void
write_stats(const struct proxy *p)
{
	char buf[256];
	int n;

	if (p->stats_file == NULL)
		return;
	n = snprintf(buf, sizeof(buf),
	    "round_trips %" PRIu64 "\nconnections %" PRIu64 "\n"
	    "bytes_up %" PRIu64 "\nbytes_down %" PRIu64 "\n",
	    p->round_trips, p->connections, p->bytes_up, p->bytes_down);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	/* Failure is logged inside; the proxy keeps serving regardless. */
	(void)write_file_atomic(p->stats_file, buf, (size_t)n);
}

static enum td_status
enqueue(struct proxy *p, struct dir *d, const char *data, size_t len)
{
	struct chunk *ch;

	if ((ch = malloc(sizeof(*ch) + len)) == NULL)
		return TD_ENOMEM;
	ch->next = NULL;
	ch->due = now_ns() + p->delay;
	ch->len = len;
	ch->off = 0;
	if (len > 0)
		memcpy(ch->data, data, len);
	if (d->tail != NULL)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += len;
	return TD_OK;
}

static void
dequeue(struct dir *d)
{
	struct chunk *ch = d->head;

	d->head = ch->next;
	if (d->head == NULL)
		d->tail = NULL;
	free(ch);
}

/* Close at once; the sweep in service() frees it, after the event batch
 * that may still point at it is done. */
static void
conn_kill(struct conn *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (c->fd[i] != -1 && close(c->fd[i]) == -1)
			log_warn("close: %s", strerror(errno));
		c->fd[i] = -1;
		c->ev[i] = 0;
	}
	c->dead = true;
}

static void
conn_free(struct conn *c)
{
	int i;

	for (i = 0; i < 2; i++)
		while (c->d[i].head != NULL)
			dequeue(&c->d[i]);
	free(c);
}

static enum td_status
set_nodelay(int fd)
{
	int one = 1;

	/* Nagle would add its own delay and blur the round-trip picture. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1) {
		log_error("setsockopt TCP_NODELAY: %s", strerror(errno));
		return TD_ESYSTEM;
	}
	return TD_OK;
}

static enum td_status
conn_new(struct proxy *p, int cfd)
{
	struct epoll_event ev;
	struct conn *c;
	enum td_status st = TD_ESYSTEM;
	int i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(cfd);
		return TD_ENOMEM;
	}
	c->fd[0] = cfd;
	c->fd[1] = -1;
	c->last = NONE;
	for (i = 0; i < 2; i++) {
		c->ep[i].c = c;
		c->ep[i].side = i;
	}
	if ((c->fd[1] = socket(p->target.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_error("socket: %s", strerror(errno));
		goto out;
	}
	if (set_nodelay(c->fd[0]) != TD_OK || set_nodelay(c->fd[1]) != TD_OK)
		goto out;
	if (connect(c->fd[1], (struct sockaddr *)&p->target,
	    p->targetlen) == 0)
		c->connecting = false;
	else if (errno == EINPROGRESS)
		c->connecting = true;
	else {
		log_warn("connect to target: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = (i == 1 && c->connecting) ? EPOLLOUT : EPOLLIN;
		ev.data.ptr = &c->ep[i];
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, c->fd[i], &ev) == -1) {
			log_error("epoll_ctl add: %s", strerror(errno));
			goto out;
		}
		c->ev[i] = ev.events;
	}
	c->next = p->conns;
	p->conns = c;
	p->connections++;
	st = TD_OK;
out:
	if (st != TD_OK) {
		conn_kill(c);
		conn_free(c);
	}
	return st;
}

static void
on_accept(struct proxy *p)
{
	int cfd;

	for (;;) {
		cfd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_error("accept: %s", strerror(errno));
			return;
		}
		/* A failed connection is logged and dropped; others go on. */
		(void)conn_new(p, cfd);
	}
}

/* Read side i until a short read, EAGAIN, EOF or a full queue: a read
 * that did not fill the buffer took what the kernel held, and epoll
 * (level-triggered) reports the fd again if more came since, so no read
 * is spent on learning EAGAIN. force reads to EAGAIN or EOF and ignores
 * the queue bound: after a hangup only what the kernel already holds
 * can come. */
static void
conn_read(struct proxy *p, struct conn *c, int i, bool force)
{
	static char buf[READ_MAX];
	struct dir *d = &c->d[i];
	ssize_t n;

	while (!d->eof_read && (force || d->queued < QUEUE_MAX)) {
		n = recv(c->fd[i], buf, sizeof(buf), 0);
		if (n > 0) {
			if (i == UP) {
				if (c->last != UP)
					p->round_trips++;
				p->bytes_up += (uint64_t)n;
			} else
				p->bytes_down += (uint64_t)n;
			c->last = i;
			if (enqueue(p, d, buf, (size_t)n) != TD_OK) {
				log_error("out of memory");
				conn_kill(c);
				return;
			}
			if ((size_t)n < sizeof(buf) && !force)
				return;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* A reset ends this direction like EOF: what is queued
		 * still goes out, then the other side sees the close. */
		if (n == -1)
			log_info("recv: %s", strerror(errno));
		if (enqueue(p, d, NULL, 0) != TD_OK) {
			conn_kill(c);
			return;
		}
		d->eof_read = true;
	}
}

static void
on_conn_event(struct proxy *p, struct conn *c, int side, uint32_t events)
{
	socklen_t len;
	int err;

	if (c->dead)
		return;
	if (side == 1 && c->connecting) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		len = sizeof(err);
		if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1 || err != 0) {
			log_warn("connect to target: %s",
			    strerror(err != 0 ? err : errno));
			conn_kill(c);
			return;
		}
		c->connecting = false;
	}
	if (events & EPOLLOUT)
		c->d[!side].blocked = false;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(p, c, side, (events & (EPOLLHUP | EPOLLERR)) != 0);
}

/* Forward the chunks of direction i that are due. */
static void
flush(struct conn *c, int i, uint64_t now)
{
	struct dir *d = &c->d[i];
	struct chunk *ch;
	int out = c->fd[!i];
	ssize_t n;

	if (i == UP && c->connecting)
		return;
	while ((ch = d->head) != NULL && !d->blocked && ch->due <= now) {
		if (ch->len == 0) {
			if (shutdown(out, SHUT_WR) == -1 && errno != ENOTCONN) {
				log_info("shutdown: %s", strerror(errno));
				conn_kill(c);
				return;
			}
			d->eof_sent = true;
			dequeue(d);
			continue;
		}
		n = send(out, ch->data + ch->off, ch->len - ch->off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				d->blocked = true;
				return;
			}
			/* The destination is gone; nothing left to do. */
			log_info("send: %s", strerror(errno));
			conn_kill(c);
			return;
		}
		ch->off += (size_t)n;
		d->queued -= (size_t)n;
		if (ch->off == ch->len)
			dequeue(d);
	}
}

/* Level-triggered epoll reports hangups even with no events asked for,
 * so an fd with nothing wanted is taken out instead of spinning. */
static enum td_status
update_interest(struct proxy *p, struct conn *c)
{
	struct epoll_event ev;
	uint32_t want;
	int i, op;

	for (i = 0; i < 2; i++) {
		want = 0;
		if (i == 1 && c->connecting)
			want = EPOLLOUT;
		else {
			if (!c->d[i].eof_read && c->d[i].queued < QUEUE_MAX)
				want |= EPOLLIN;
			if (c->d[!i].blocked)
				want |= EPOLLOUT;
		}
		if (want == c->ev[i])
			continue;
		if (want == 0)
			op = EPOLL_CTL_DEL;
		else if (c->ev[i] == 0)
			op = EPOLL_CTL_ADD;
		else
			op = EPOLL_CTL_MOD;
		memset(&ev, 0, sizeof(ev));
		ev.events = want;
		ev.data.ptr = &c->ep[i];
		if (epoll_ctl(p->epfd, op, c->fd[i], &ev) == -1) {
			log_error("epoll_ctl: %s", strerror(errno));
			return TD_ESYSTEM;
		}
		c->ev[i] = want;
	}
	return TD_OK;
}

/* After each event batch: forward what is due, close finished
 * connections, fix epoll interest, free the dead. */
static void
service(struct proxy *p)
{
	struct conn **pp = &p->conns, *c;
	int i;

	while ((c = *pp) != NULL) {
		for (i = 0; i < 2 && !c->dead; i++)
			flush(c, i, now_ns());
		if (!c->dead && c->d[UP].eof_sent && c->d[DOWN].eof_sent)
			conn_kill(c);
		if (!c->dead && update_interest(p, c) != TD_OK)
			conn_kill(c);
		if (c->dead) {
			*pp = c->next;
			conn_free(c);
			continue;
		}
		pp = &c->next;
	}
}

/* The wait until the earliest chunk that is waiting only for its release
 * time, in *ts, to the nanosecond (a timeout in ms rounded up would hold a
 * chunk due in 50 us for a whole millisecond more); NULL if none. */
static struct timespec *
next_timeout(const struct proxy *p, struct timespec *ts)
{
	const struct conn *c;
	const struct dir *d;
	uint64_t due = UINT64_MAX, now, ns;
	int i;

	for (c = p->conns; c != NULL; c = c->next)
		for (i = 0; i < 2; i++) {
			d = &c->d[i];
			if (d->head == NULL || d->blocked ||
			    (i == UP && c->connecting))
				continue;
			if (d->head->due < due)
				due = d->head->due;
		}
	if (due == UINT64_MAX)
		return NULL;
	now = now_ns();
	ns = due > now ? due - now : 0;
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return ts;
}

/* Returns true when asked to exit. */
static bool
on_signal(struct proxy *p)
{
	struct signalfd_siginfo si;
	bool stop = false;
	ssize_t n;

	for (;;) {
		n = read(p->sigfd, &si, sizeof(si));
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			break;
		switch (si.ssi_signo) {
		case SIGUSR2:
			p->round_trips = p->connections = 0;
			p->bytes_up = p->bytes_down = 0;
			/* FALLTHROUGH */
		case SIGUSR1:
			write_stats(p);
			break;
		case SIGTERM:
		case SIGINT:
			stop = true;
			break;
		default:
			break;
		}
	}
	return stop;
}

static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	}
	return true;
}

static enum td_status
open_listener(struct proxy *p, const char *addr, const char *port_file,
    bool allow_non_loopback)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char buf[32];
	int one = 1, port, n;

	if (resolve(addr, true, &ss, &sslen) != TD_OK)
		return TD_EINVAL;
	/* This tool must never expose the database beyond the host: loopback,
	 * or with --allow-non-loopback one named address (the host end of a
	 * test's own veth link), never every interface. */
	if (is_wildcard(&ss) || (!is_loopback(&ss) && !allow_non_loopback)) {
		log_error("refusing %s listen address %s",
		    is_wildcard(&ss) ? "wildcard" : "non-loopback", addr);
		return TD_EINVAL;
	}
	if ((p->lfd = socket(ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(p->lfd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(p->lfd, SOMAXCONN) == -1) {
		log_error("listen on %s: %s", addr, strerror(errno));
		return TD_ESYSTEM;
	}
	sslen = sizeof(ss);
	if (getsockname(p->lfd, (struct sockaddr *)&ss, &sslen) == -1) {
		log_error("getsockname: %s", strerror(errno));
		return TD_ESYSTEM;
	}
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	log_info("listening on port %d", port);
	if (port_file != NULL) {
		n = snprintf(buf, sizeof(buf), "%d\n", port);
		if (n < 0 || (size_t)n >= sizeof(buf) ||
		    write_file_atomic(port_file, buf, (size_t)n) != TD_OK)
			return TD_ESYSTEM;
	}
	return TD_OK;
}

static enum td_status
setup_signals(struct proxy *p)
{
	sigset_t set;

	/* send() uses MSG_NOSIGNAL; this covers anything else. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    sigemptyset(&set) == -1 ||
	    sigaddset(&set, SIGUSR1) == -1 || sigaddset(&set, SIGUSR2) == -1 ||
	    sigaddset(&set, SIGTERM) == -1 || sigaddset(&set, SIGINT) == -1 ||
	    sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (p->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_error("signals: %s", strerror(errno));
		return TD_ESYSTEM;
	}
	return TD_OK;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rtproxy --listen 127.0.0.1:PORT "
	    "--target HOST:PORT [--delay-ms N]\n"
	    "               [--port-file FILE] [--stats-file FILE]"
	    " [--allow-non-loopback]\n");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "stats-file", required_argument, NULL, 's' },
		{ "allow-non-loopback", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct epoll_event evs[MAX_EVENTS], ev;
	struct timespec ts;
	struct proxy p;
	struct endpoint *ep;
	struct conn *c;
	const char *listen_addr = NULL, *target = NULL, *port_file = NULL;
	char *end;
	long delay = 0;
	bool stop = false, allow_non_loopback = false;
	int ch, n, i, rc = 1;

	memset(&p, 0, sizeof(p));
	p.epfd = p.lfd = p.sigfd = -1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen_addr = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'd':
			errno = 0;
			delay = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    delay < 0 || delay > DELAY_MAX_MS) {
				usage();
				return 2;
			}
			break;
		case 'p':
			port_file = optarg;
			break;
		case 's':
			p.stats_file = optarg;
			break;
		case 'a':
			allow_non_loopback = true;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (listen_addr == NULL || target == NULL || optind != argc) {
		usage();
		return 2;
	}
	p.delay = (uint64_t)delay * 1000000u;

	if (setup_signals(&p) != TD_OK ||
	    resolve(target, false, &p.target, &p.targetlen) != TD_OK)
		goto out;
	if ((p.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_error("epoll_create1: %s", strerror(errno));
		goto out;
	}
	if (open_listener(&p, listen_addr, port_file, allow_non_loopback) != TD_OK)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_listen;
	if (epoll_ctl(p.epfd, EPOLL_CTL_ADD, p.lfd, &ev) == -1)
		goto syserr;
	ev.data.ptr = &tag_signal;
	if (epoll_ctl(p.epfd, EPOLL_CTL_ADD, p.sigfd, &ev) == -1)
		goto syserr;

	while (!stop) {
		n = epoll_pwait2(p.epfd, evs, MAX_EVENTS, next_timeout(&p, &ts),
		    NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto syserr;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &tag_listen)
				on_accept(&p);
			else if (evs[i].data.ptr == &tag_signal)
				stop |= on_signal(&p);
			else {
				ep = evs[i].data.ptr;
				on_conn_event(&p, ep->c, ep->side,
				    evs[i].events);
			}
		}
		service(&p);
	}
	write_stats(&p);
	rc = 0;
	goto out;
syserr:
	log_error("epoll: %s", strerror(errno));
out:
	while ((c = p.conns) != NULL) {
		p.conns = c->next;
		conn_kill(c);
		conn_free(c);
	}
	if (p.lfd != -1)
		close(p.lfd);
	if (p.sigfd != -1)
		close(p.sigfd);
	if (p.epfd != -1)
		close(p.epfd);
	return rc;
}
