/* worker.c - see worker.h. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "counters.h"
#include "db.h"
#include "log.h"
#include "pool.h"
#include "request.h"
#include "response.h"
#include "route.h"
#include "schema.h"
#include "store.h"

static long
read_stdin(void *ctx, char *buf, size_t n)
{
	FCGX_Stream *in = ctx;
	int got = FCGX_GetStr(buf, n > 65536 ? 65536 : (int)n, in);

	if (got < 0 || FCGX_GetError(in) != 0)
		return -1;
	return got;
}

/* A request whose arena grew past this (an export, not a list page) has
 * left free pages inside the heap (its blocks, libpq's result): give them
 * back, or the worker keeps that high-water mark for good (bench/memory:
 * about 100 KiB after an export of 8,000 todos). */
#define TRIM_AFTER_BYTES	(1024 * 1024)

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *
parse_error_message(int status)
{
	switch (status) {
	case 413: return "That request is larger than this site accepts.";
	case 414: return "That address is too long.";
	case 415: return "Forms must be sent as application/x-www-form-urlencoded.";
	default: return "The request was malformed: check its encoding (UTF-8, percent-escapes) and length.";
	}
}

/* When not even the error page fits in the request's arena. */
static const char oom_body[] =
    "500: this page needs more memory than one request may use.\r\n";

static int
send_oom_page(struct response_wire *w)
{
	char head[160];
	int n;

	n = snprintf(head, sizeof(head), "Status: 500 Internal Server Error\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
	    sizeof(oom_body) - 1);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	return response_wire_write(w, head, (size_t)n) == 0 &&
	    response_wire_write(w, oom_body, sizeof(oom_body) - 1) == 0 ? 0 : -1;
}

static void
serve(struct app *app, FCGX_Request *fr, struct arena *a, struct pool_slot *slot)
{
	const char *method = request_param(fr->envp, "REQUEST_METHOD");
	const char *uri = request_param(fr->envp, "REQUEST_URI");
	const char *rid = request_param(fr->envp, "REQUEST_ID");
	uint64_t trips = db_round_trips(app->db), db_us = db_time_us(app->db),
	    reconnects = db_reconnects(app->db);
	int64_t start = now_us(), elapsed;
	struct counters_request done;
	struct response resp;
	struct request req;
	struct response_wire wire;
	char line[128];
	int status, route = ROUTE_NONE;
	enum td_status rc;
	bool head;

	snprintf(line, sizeof(line), "%s %s", method ? method : "-", uri ? uri : "-");
	pool_worker_busy(slot, rid ? rid : "-", line);
	response_init(&resp, a);
	rc = request_parse(&req, a, fr->envp, read_stdin, fr->in,
	    (size_t)app->cfg->max_body, &status);
	log_set_request_id(req.request_id);
	/* The body read whole: the connection closes at once after the
	 * answer (close_at_once_if_drained), so nginx need not buffer a
	 * small one (response.h); an unread body's lingering close waits for
	 * nginx, which would wait for a slow client. */
	resp.unbuffered = rc == TD_OK;
	head = req.method != NULL && strcmp(req.method, "HEAD") == 0;
	response_wire_init(&wire, &resp, fr->ipcFd, fr->requestId);
	/* A handler may stream its body (response_stream_start). */
	response_set_writer(&resp, head, response_wire_write, &wire);
	if (rc != TD_OK) {
		log_info("rejected request %s: %d %s", line, status, td_strerror(rc));
		app_error(app, a, &resp, status, parse_error_message(status));
	} else {
		route = app_handle(app, &req, &resp, a);
	}
	rc = response_send(&resp, head, response_wire_write, &wire);
	if (rc == TD_ENOMEM) {
		/* Not even the error page fitted (nothing was sent): a fixed
		 * one, never a cut or empty answer. */
		log_error("%s: out of per-request memory (TODO_ARENA_CAP %d)",
		    line, app->cfg->arena_cap);
		resp.status = 500;
		rc = send_oom_page(&wire) == 0 ? TD_OK : TD_ESYSTEM;
	}
	if (resp.cut) {
		/* A streamed body cut short must not end like a whole one.
		 * nginx (no fastcgi_keep_conn) takes a close without
		 * FCGI_END_REQUEST for the end of the body, but a record it
		 * must refuse (version 0) is an upstream error: it drops the
		 * client's connection, without chunked encoding's last chunk. */
		(void)response_wire_cut(&wire);
		shutdown(fr->ipcFd, SHUT_RDWR);
		fr->keepConnection = 0;
	} else if (response_wire_end(&wire) != 0) {
		rc = TD_ESYSTEM;
	}
	response_wire_done(&wire, fr);
	if (rc != TD_OK)
		log_warn("could not send the response to %s (client gone?)", line);
	elapsed = now_us() - start;
	if (elapsed < 0)
		elapsed = 0;
	if (resp.status >= 500)
		log_error("%s answered %d: %s", line, resp.status, db_last_error(app->db));
	if (elapsed / 1000 >= app->cfg->slow_ms) {
		log_warn("slow request: %s status=%d ms=%lld db_round_trips=%llu",
		    line, resp.status, (long long)(elapsed / 1000),
		    (unsigned long long)(db_round_trips(app->db) - trips));
		counters_inc(&slot->counts.slow, 1);
	}
	/* Into the slot's counters, for /status and /metrics. */
	done.route = (enum route_id)route;
	done.status = resp.status;
	done.duration_us = (uint64_t)elapsed;
	done.db_us = db_time_us(app->db) - db_us;
	done.db_round_trips = db_round_trips(app->db) - trips;
	counters_record(&slot->counts, &done);
	if (db_reconnects(app->db) != reconnects)
		counters_inc(&slot->counts.db_reconnects,
		    db_reconnects(app->db) - reconnects);
	pool_worker_result(slot, resp.status, (uint64_t)elapsed);
	log_set_request_id(NULL);
	pool_worker_idle(slot);
}

/* SIGUSR1: the master reopened the log file after a rotation; this
 * worker does the same between requests. */
static volatile sig_atomic_t reopen_requested;

static void
on_reopen(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

/* The pool's watchdog gives up on this request: cancel its statement
 * before the SIGKILL that follows, so no write lands after the 502. */
static void
on_abandon(int sig)
{
	(void)sig;
	db_cancel_from_signal();
}

/*
 * libfcgi takes a read or write cut by EINTR for a broken connection, so
 * the signals that interrupt (SIGTERM: no SA_RESTART) and SIGUSR1 are
 * held (blocked) from a connection being ready to the end of the
 * response, and let in only while waiting for one; one sent meanwhile
 * waits and is handled before the next wait. SIGUSR2, the watchdog's
 * cancel, stays open: it must reach a database wait, and SA_RESTART
 * resumes libfcgi's reads and writes.
 *
 * A wait that finds a connection ready returns it without running the
 * handler of a signal held meanwhile (epoll_pwait and ppoll restore the
 * mask and leave it pending): under steady load a worker would never see
 * its SIGTERM or SIGUSR1. So the held signals also have a signalfd in the
 * wait: readable while one is pending, and then let in at once.
 */
static sigset_t held, waiting;	/* the mask while serving, while waiting */

/* This worker's own epoll set, holding the listening socket and the
 * signalfd. Its own: EPOLLEXCLUSIVE wakes one of the idle workers per new
 * connection, not all of them, and epoll_pwait() lets the held signals in
 * for the wait only, atomically. */
static int wait_fd = -1, signal_fd = -1;

/* Run the handlers of the held signals now pending. */
static void
let_signals_in(void)
{
	sigprocmask(SIG_SETMASK, &waiting, NULL);
	sigprocmask(SIG_SETMASK, &held, NULL);
}

/* The listening socket turns non-blocking (for every process sharing
 * it: the master never accepts), so that a worker that lost the race for
 * a connection goes back to waiting instead of sleeping in accept() with
 * the signals held. The connections accept4() makes stay blocking, as
 * libfcgi needs. */
static int
wait_init(int listen_fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
	    .data.fd = listen_fd };
	struct epoll_event sev = { .events = EPOLLIN, .data.fd = -1 };
	int fl = fcntl(listen_fd, F_GETFL);

	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    (wait_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(wait_fd, EPOLL_CTL_ADD, listen_fd, &ev) != 0 ||
	    (signal_fd = signalfd(-1, &held, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (sev.data.fd = signal_fd,
	    epoll_ctl(wait_fd, EPOLL_CTL_ADD, signal_fd, &sev)) != 0)
		return -1;
	return 0;
}

/* Waits, the held signals let in, for the next request's connection:
 * the one kept from the last request (FCGI_KEEP_CONN) once it is
 * readable, or a new one from accept(), which is done here so that
 * libfcgi reads the parameters after the signals are held again. A
 * SIGTERM held since the stop check is delivered as the wait starts
 * (the mask swap is atomic), or, when a connection is ready too, through
 * the signalfd; the wait ends after a second anyway.
 * 0: fr->ipcFd is ready; -1 with errno (EINTR: a signal, the second
 * passed, or another worker took the connection). */
static int
wait_connection(FCGX_Request *fr, int listen_fd)
{
	struct pollfd pfd[2] = { { fr->ipcFd, POLLIN, 0 },
	    { signal_fd, POLLIN, 0 } };
	struct timespec tick = { 1, 0 };
	struct epoll_event ev[2];
	int fd, n, i;

	if (fr->ipcFd >= 0) {
		n = ppoll(pfd, 2, &tick, &waiting);
		if (n > 0 && pfd[1].revents != 0)
			let_signals_in();
		/* What nginx sent on it is served before a stop. */
		if (n > 0 && pfd[0].revents != 0)
			return 0;
		errno = n >= 0 ? EINTR : errno;
		return -1;
	}
	n = epoll_pwait(wait_fd, ev, 2, 1000, &waiting);
	if (n <= 0) {
		errno = n == 0 ? EINTR : errno;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (ev[i].data.fd == signal_fd) {
			/* Handled first: a stop takes no new connection. */
			let_signals_in();
			errno = EINTR;
			return -1;
		}
	if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			errno = EINTR;
		return -1;
	}
	fr->ipcFd = fd;
	/* Or FCGX_Accept_r's FCGX_Finish_r of the last request closes it;
	 * the BEGIN_REQUEST record sets it again. */
	fr->keepConnection = 1;
	return 0;
}

/* libfcgi's close of a connection shuts it down and then waits (up to
 * 2 s) for the peer's own close, reading whatever it still sends: input
 * left unread would make the kernel reset a TCP connection, or fail the
 * writes of a peer still sending (nginx's 502), before the peer has the
 * response. Nothing is left when the request had no body or its body was
 * read to the end, and the socket holds no unread byte: then a plain
 * close (FCGX_Detach: no shutdown) saves three system calls and the
 * worker's wait for nginx. */
static void
close_at_once_if_drained(FCGX_Request *fr)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	int unread = 1;

	if (fr->keepConnection || fr->in == NULL)
		return;
	if ((FCGX_HasSeenEOF(fr->in) == EOF || cl == NULL || cl[0] == '\0' ||
	    strcmp(cl, "0") == 0) &&
	    ioctl(fr->ipcFd, FIONREAD, &unread) == 0 && unread == 0)
		FCGX_Detach(fr);
}

/* accept() errors that concern one connection, not the socket. */
static int
connection_error(int err)
{
	switch (err) {
	case EINTR: case ECONNABORTED: case EPROTO: case ECONNRESET:
	case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH: case EPERM:
		return 1;
	default:
		return 0;
	}
}

int
worker_main(int listen_fd, struct pool_slot *slot, void *arg)
{
	struct worker_env *env = arg;
	struct app app = { .cfg = env->cfg, .tmpl = env->tmpl, .db = NULL };
	const struct db_stmt *stmts;
	struct arena *a = NULL;
	FCGX_Request fr;
	uint64_t served = 0;
	int nstmts, rc, status = 1;
	bool trim;

	memset(&fr, 0, sizeof(fr));
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	/* Made here, after fork: no two workers draw the same bytes. */
	randpool_init(&app.rand);
	stmts = store_statements(&nstmts);
	/* The connection is opened after fork (a PGconn is never shared
	 * between processes), before the first request: see below. */
	if (db_new(&app.db, env->cfg->database_url, env->cfg->db_timeout * 1000,
	    stmts, nstmts, TODO_SCHEMA_VERSION) != TD_OK ||
	    (a = arena_new((size_t)env->cfg->arena_cap)) == NULL) {
		log_error("worker start-up: out of memory");
		goto out;
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = on_abandon;
		sa.sa_flags = SA_RESTART;
		if (sigaction(SIGUSR2, &sa, NULL) != 0) {
			log_error("sigaction(SIGUSR2) failed");
			goto out;
		}
		/* SA_RESTART: never cuts a request's reads or writes; it
		 * still ends the wait for a connection (epoll_pwait and ppoll
		 * are not restarted). */
		sa.sa_handler = on_reopen;
		if (sigaction(SIGUSR1, &sa, NULL) != 0) {
			log_error("sigaction(SIGUSR1) failed");
			goto out;
		}
	}
	if (sigemptyset(&held) != 0 || sigaddset(&held, SIGTERM) != 0 ||
	    sigaddset(&held, SIGUSR1) != 0 ||
	    sigprocmask(SIG_BLOCK, &held, &waiting) != 0 ||
	    sigprocmask(SIG_BLOCK, NULL, &held) != 0) {
		log_error("sigprocmask failed");
		goto out;
	}
	if (wait_init(listen_fd) != 0) {
		log_error("cannot wait on the listening socket: %s", strerror(errno));
		goto out;
	}
	/* No listening socket for libfcgi: wait_connection() accepts, and a
	 * connection that breaks before its parameters makes
	 * FCGX_Accept_r() fail at once (EBADF) instead of accepting the
	 * next one itself with the signals held. */
	if (FCGX_InitRequest(&fr, -1, 0) != 0) {
		log_error("FCGX_InitRequest failed");
		goto out;
	}
	/* Connected before taking a request: a worker started by demand or
	 * to replace one would otherwise make the requests it takes wait for
	 * TCP, TLS, authentication and the schema check (several round trips
	 * to a database far away) while the others could serve them. Busy
	 * meanwhile, as the pool saw it when a request did this, and bounded
	 * by TODO_DB_TIMEOUT. On failure (logged) it serves anyway: db_exec
	 * retries, pages say 503. */
	pool_worker_busy(slot, "-", "(connecting to the database)");
	(void)db_connect_now(app.db);
	pool_worker_ready(slot);
	while (!pool_worker_stopping()) {
		if (env->cfg->max_requests > 0 && served >= (uint64_t)env->cfg->max_requests)
			break;
		if (reopen_requested) {
			reopen_requested = 0;
			if (log_reopen() != 0)
				log_error("cannot reopen the log file: %s", strerror(errno));
			else
				log_info("log file reopened");
		}
		if (wait_connection(&fr, listen_fd) != 0) {
			if (connection_error(errno))
				continue;
			log_error("accept: %s", strerror(errno));
			goto out;
		}
		/* The parameters: libfcgi closes the connection if they do
		 * not arrive whole. Busy already, so the watchdog bounds a
		 * peer that stalls here (no signal of ours cuts the read). */
		pool_worker_busy(slot, "-", "(reading the request)");
		if ((rc = FCGX_Accept_r(&fr)) < 0) {
			pool_worker_idle(slot);
			log_info("connection closed before its request was read "
			    "(%d)", rc);
			continue;
		}
		counters_inc(&slot->counts.accepted, 1);
		serve(&app, &fr, a, slot);
		close_at_once_if_drained(&fr);
		FCGX_Finish_r(&fr);
		trim = arena_used(a) > TRIM_AFTER_BYTES;
		arena_reset(a);
		if (trim)
			malloc_trim(0);
		served++;
	}
	status = 0;
out:
	FCGX_Free(&fr, 0);
	if (wait_fd >= 0)
		close(wait_fd);
	if (signal_fd >= 0)
		close(signal_fd);
	arena_free(a);
	db_free(app.db);
	return status;
}
