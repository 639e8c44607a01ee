/* test_worker_signals.c - signals never cut a request (issue 11).
 *
 * The real todo-fcgi (one worker, no database: /metrics needs none) on a
 * TCP socket this test makes with the smallest send buffer, so accepted
 * connections inherit it and the worker blocks in write() while this
 * test, a raw FastCGI client with a small receive buffer, reads slowly.
 * Signals land while the worker reads the parameters (sent a few bytes
 * at a time over more than the idle wait's 1 s timeout) and while it
 * writes the response: SIGHUP to the master (a reload: SIGTERM to the
 * worker), SIGUSR1 (log reopen, passed on), SIGTERM to the worker
 * itself. Each response must arrive whole: Status 200, a body of
 * Content-Length bytes and FCGI_END_REQUEST. libfcgi treats an
 * interrupted read or write as fatal, so any signal let in mid-request
 * cuts it. And an idle worker, waiting for a connection, stops on
 * SIGTERM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LONG_MS		10000	/* for things that must happen */
#define QUEUED		4	/* connections kept waiting for a busy worker */
#define RESP_MAX	(4 * 1024 * 1024)

enum { BEGIN = 1, END = 3, PARAMS = 4, STDIN = 5, STDOUT = 6, STDERR = 7 };

static pid_t master = -1;
static struct sockaddr_in addr;
static char logpath[128];

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The master's children (its workers): /proc, as e2e_http does. */
static int
workers(pid_t *out, int max)
{
	char path[64];
	FILE *f;
	int n = 0, pid;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
	    (int)master, (int)master);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (n < max && fscanf(f, "%d", &pid) == 1)
		out[n++] = (pid_t)pid;
	fclose(f);
	return n;
}

static pid_t
one_worker(void)
{
	pid_t w[8];
	int64_t end = mono_ms() + LONG_MS;

	while (mono_ms() < end) {
		if (workers(w, 8) == 1)
			return w[0];
		sleep_ms(20);
	}
	fail_msg("the pool has no single worker");
	return -1;
}

static void
record(char *p, int type, size_t len)
{
	p[0] = 1;
	p[1] = (char)type;
	p[2] = 0;
	p[3] = 1;			/* request id 1 */
	p[4] = (char)(len >> 8);
	p[5] = (char)(len & 0xff);
	p[6] = 0;
	p[7] = 0;
}

static size_t
put_pair(char *p, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	assert_true(nl < 128 && vl < 128);
	p[0] = (char)nl;
	p[1] = (char)vl;
	memcpy(p + 2, name, nl);
	memcpy(p + 2 + nl, value, vl);
	return 2 + nl + vl;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail_msg("the worker dropped the connection while the "
			    "request was on its way: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* What a point in the request does to the pool. */
typedef void (*poke_fn)(int step);

static int
connect_small(void)
{
	int fd, small = 1024;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* Before connect(), so the window stays small. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Begin a request (a POST has an empty form); the parameters go out
 * `chunk` bytes at a time, `gap_ms` apart, with param_poke(i) before
 * chunk i. */
static void
send_request(int fd, const char *method, const char *uri, size_t chunk,
    int gap_ms, poke_fn param_poke)
{
	char buf[2048], *p;
	size_t n, off, k;
	int i;

	record(buf, BEGIN, 8);
	memset(buf + 8, 0, 8);
	buf[9] = 1;			/* FCGI_RESPONDER, no keep-conn */
	send_all(fd, buf, 16);
	p = buf + 8;
	n = 0;
	n += put_pair(p + n, "REQUEST_METHOD", method);
	if (strcmp(method, "POST") == 0) {
		n += put_pair(p + n, "CONTENT_TYPE",
		    "application/x-www-form-urlencoded");
		n += put_pair(p + n, "CONTENT_LENGTH", "0");
	}
	n += put_pair(p + n, "REQUEST_URI", uri);
	n += put_pair(p + n, "SCRIPT_NAME", uri);
	n += put_pair(p + n, "DOCUMENT_URI", uri);
	n += put_pair(p + n, "QUERY_STRING", "");
	n += put_pair(p + n, "REMOTE_ADDR", "127.0.0.1");
	n += put_pair(p + n, "SERVER_NAME", "localhost");
	n += put_pair(p + n, "SERVER_PORT", "80");
	n += put_pair(p + n, "HTTP_HOST", "localhost");
	n += put_pair(p + n, "REQUEST_ID", "signals");
	record(buf, PARAMS, n);
	n += 8;
	for (off = 0, i = 0; off < n; off += k, i++) {
		k = n - off < chunk ? n - off : chunk;
		if (param_poke != NULL)
			param_poke(i);
		send_all(fd, buf + off, k);
		if (gap_ms > 0 && off + k < n)
			sleep_ms(gap_ms);
	}
	record(buf, PARAMS, 0);
	record(buf + 8, STDIN, 0);
	send_all(fd, buf, 16);
}

struct answer {
	char *out;		/* FCGI_STDOUT, joined */
	size_t len;
	int ended;		/* FCGI_END_REQUEST seen */
	int proto_status;
};

static int
read_full(int fd, char *p, size_t n, int64_t deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t r;

	while (n > 0) {
		if (mono_ms() >= deadline ||
		    poll(&pfd, 1, (int)(deadline - mono_ms())) <= 0)
			return -1;
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read records until END_REQUEST or EOF, sleeping `gap_ms` after each
 * read of at most `slice` bytes, with resp_poke(i) before slice i. */
static void
read_answer(int fd, struct answer *a, size_t slice, int gap_ms,
    poke_fn resp_poke)
{
	int64_t deadline = mono_ms() + 60000;
	unsigned char h[8];
	char pad[256];
	size_t clen, got, k;
	int i = 0;

	memset(a, 0, sizeof(*a));
	a->out = malloc(RESP_MAX);
	assert_non_null(a->out);
	for (;;) {
		if (read_full(fd, (char *)h, 8, deadline) != 0)
			return;		/* cut: no END_REQUEST */
		clen = (size_t)h[4] << 8 | h[5];
		if (h[1] == END) {
			assert_int_equal(read_full(fd, pad, clen + h[6], deadline), 0);
			a->ended = 1;
			a->proto_status = (unsigned char)pad[4];
			return;
		}
		if (h[1] != STDOUT && h[1] != STDERR)
			return;		/* not a record: the stream was cut */
		assert_true(a->len + clen <= RESP_MAX);
		for (got = 0; got < clen; got += k) {
			k = clen - got < slice ? clen - got : slice;
			if (resp_poke != NULL)
				resp_poke(i++);
			if (read_full(fd, h[1] == STDOUT ? a->out + a->len + got : pad,
			    h[1] == STDOUT ? k : (k < sizeof(pad) ? k : sizeof(pad)),
			    deadline) != 0)
				return;
			if (gap_ms > 0)
				sleep_ms(gap_ms);
		}
		if (h[1] == STDOUT)
			a->len += clen;
		if (h[6] > 0 && read_full(fd, pad, h[6], deadline) != 0)
			return;
	}
}

/* Status 200, a body of exactly Content-Length bytes, END_REQUEST. */
static size_t
assert_whole(const struct answer *a)
{
	const char *end, *cl;
	size_t want;

	assert_true(a->ended);
	assert_int_equal(a->proto_status, 0);
	assert_true(a->len > 0);
	a->out[a->len < RESP_MAX ? a->len : RESP_MAX - 1] = '\0';
	assert_true(strncmp(a->out, "Status: 200", 11) == 0);
	end = strstr(a->out, "\r\n\r\n");
	cl = strstr(a->out, "Content-Length: ");
	assert_non_null(end);
	assert_non_null(cl);
	want = strtoul(cl + 16, NULL, 10);
	assert_int_equal(a->len - (size_t)(end + 4 - a->out), want);
	return want;
}

static pid_t cur_worker;

/* Every route once, so /metrics has a histogram for each: a page big
 * enough (tens of KB) that the worker waits for a slow reader. */
static void
test_warm_up(void **state)
{
	static const char *const reqs[][2] = {
		{ "GET", "/" }, { "GET", "/todos" }, { "POST", "/todos" },
		{ "POST", "/todos/toggle-all" }, { "POST", "/todos/clear-completed" },
		{ "GET", "/todos/1/edit" }, { "POST", "/todos/1" },
		{ "POST", "/todos/1/toggle" }, { "POST", "/todos/1/delete" },
		{ "GET", "/healthz" }, { "GET", "/status" }, { "GET", "/metrics" },
		{ "GET", "/signup" }, { "POST", "/signup" }, { "GET", "/login" },
		{ "POST", "/login" }, { "POST", "/logout" }, { "GET", "/account" },
		{ "POST", "/account/sessions/revoke" }, { "POST", "/account/password" },
		{ "POST", "/account/delete" }, { "GET", "/account/export.json" },
		{ "GET", "/account/export.csv" }, { "GET", "/nowhere" },
	};
	struct answer a;
	size_t i;
	int fd;

	(void)state;
	(void)one_worker();
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fd = connect_small();
		send_request(fd, reqs[i][0], reqs[i][1], 4096, 0, NULL);
		read_answer(fd, &a, 65536, 0, NULL);
		close(fd);
		assert_true(a.ended);
		free(a.out);
	}
}

static void
kill_master(int sig)
{
	assert_int_equal(kill(master, sig), 0);
}

/* Params in 60 pieces 50 ms apart (3 s: the idle wait's 1 s timeout
 * would pass three times), signals on the way. */
static void
params_poke(int step)
{
	switch (step) {
	case 10: kill_master(SIGUSR1); break;
	case 25: assert_int_equal(kill(cur_worker, SIGUSR1), 0); break;
	case 40: kill_master(SIGHUP); break;	/* reload: SIGTERM to it */
	}
}

static void
test_signals_while_reading_params(void **state)
{
	struct answer a;
	pid_t w;
	int fd;

	(void)state;
	cur_worker = one_worker();
	fd = connect_small();
	send_request(fd, "GET", "/metrics", 4, 50, params_poke);
	read_answer(fd, &a, 65536, 0, NULL);
	close(fd);
	assert_whole(&a);
	free(a.out);
	/* The reloaded generation serves; the old worker has gone. */
	w = one_worker();
	assert_true(w != cur_worker);
}

/* The reader stops before each signal, so the worker waits in a write()
 * that has copied nothing yet (an interrupted write() that has copied
 * some returns that count, not EINTR: the second signal of a pair
 * catches the retry). */
static void
resp_poke(int step)
{
	switch (step) {
	case 2:
		sleep_ms(300);
		kill_master(SIGHUP);		/* reload: SIGTERM to it */
		sleep_ms(300);
		assert_int_equal(kill(cur_worker, SIGTERM), 0);
		sleep_ms(300);
		break;
	case 6:
		sleep_ms(300);
		kill_master(SIGUSR1);		/* passed on to it */
		sleep_ms(300);
		assert_int_equal(kill(cur_worker, SIGUSR1), 0);
		sleep_ms(300);
		assert_int_equal(kill(cur_worker, SIGTERM), 0);
		sleep_ms(300);
		break;
	}
}

/* The response read 512 bytes at a time, 25 ms apart, with pauses while
 * the signals land: the worker waits in write(). */
static void
test_signals_while_writing_the_response(void **state)
{
	struct answer a;
	int fd;

	(void)state;
	cur_worker = one_worker();
	fd = connect_small();
	send_request(fd, "GET", "/metrics", 4096, 0, NULL);
	read_answer(fd, &a, 512, 25, resp_poke);
	close(fd);
	/* Big enough that the worker had to wait for this reader. */
	assert_true(assert_whole(&a) > 16 * 1024);
	free(a.out);
}

/* Signals held while reading the parameters must not let a peer that
 * sends nothing hold the worker for ever: the watchdog times it. */
static void
test_stalled_peer_is_bounded(void **state)
{
	int64_t end;
	pid_t w;
	int fd;

	(void)state;
	w = one_worker();
	fd = connect_small();
	end = mono_ms() + 8000 + 1000 + LONG_MS;
	while (kill(w, 0) == 0 && mono_ms() < end)
		sleep_ms(100);
	close(fd);
	assert_int_not_equal(kill(w, 0), 0);
}

/* An idle worker waits for a connection with the signals let in (the
 * mask swapped atomically for the wait only): a SIGTERM ends it without
 * a request, and the pool starts another. */
static void
test_idle_worker_stops(void **state)
{
	int64_t end = mono_ms() + LONG_MS;
	pid_t w;

	(void)state;
	w = one_worker();
	sleep_ms(300);			/* well inside its wait */
	assert_int_equal(kill(w, SIGTERM), 0);
	while (kill(w, 0) == 0 && mono_ms() < end)
		sleep_ms(20);
	assert_int_not_equal(kill(w, 0), 0);
	assert_true(one_worker() != w);
}

/* Lines of the log with s. */
static int
log_count(const char *s)
{
	char line[512];
	FILE *f = fopen(logpath, "r");
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

/* A worker kept busy, a connection always waiting in the listen queue,
 * still reopens its log on SIGUSR1 and stops on SIGTERM: a wait that
 * finds a connection ready returns it with a held signal left pending.
 * /metrics is big enough that the worker writes each answer only as this
 * test reads it, so the next requests are always queued by then. */
static void
test_busy_worker_stops(void **state)
{
	int64_t end = 0;
	struct answer a;
	int fds[QUEUED], i, round, reopened = log_count("log file reopened");
	pid_t w;

	(void)state;
	w = one_worker();
	for (i = 0; i < QUEUED; i++) {
		fds[i] = connect_small();
		send_request(fds[i], "GET", "/metrics", 4096, 0, NULL);
	}
	for (round = 0; end == 0 || kill(w, 0) == 0; round++) {
		if (end != 0 && mono_ms() > end)
			fail_msg("a busy worker did not stop on SIGTERM");
		read_answer(fds[0], &a, 65536, 0, NULL);
		assert_true(a.ended);
		free(a.out);
		close(fds[0]);
		memmove(fds, fds + 1, (QUEUED - 1) * sizeof(fds[0]));
		fds[QUEUED - 1] = connect_small();
		send_request(fds[QUEUED - 1], "GET", "/metrics", 4096, 0, NULL);
		if (round == 5)
			assert_int_equal(kill(w, SIGUSR1), 0);
		if (round == 30) {
			assert_int_equal(log_count("log file reopened"),
			    reopened + 1);
			assert_int_equal(kill(w, SIGTERM), 0);
			end = mono_ms() + 3000;
		}
	}
	assert_true(round > 30);
	for (i = 0; i < QUEUED; i++)
		close(fds[i]);
	assert_true(one_worker() != w);
}

/* A plain request after it all: the pool still serves. */
static void
test_serves_after(void **state)
{
	struct answer a;
	int fd;

	(void)state;
	(void)one_worker();
	fd = connect_small();
	send_request(fd, "GET", "/metrics", 4096, 0, NULL);
	read_answer(fd, &a, 65536, 0, NULL);
	close(fd);
	assert_whole(&a);
	free(a.out);
}

static void
dump_log(void)
{
	char line[512];
	FILE *f = fopen(logpath, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static int
start_pool(void **state)
{
	const char *src = getenv("TODO_SRCDIR"), *bld = getenv("TODO_BUILDDIR");
	char spec[32], tdir[512], bin[512];
	socklen_t alen = sizeof(addr);
	int lfd, tiny = 1, fd;

	(void)state;
	snprintf(tdir, sizeof(tdir), "%s/templates", src != NULL ? src : "..");
	snprintf(bin, sizeof(bin), "%s/todo-fcgi", bld != NULL ? bld : ".");
	snprintf(logpath, sizeof(logpath), "/tmp/test_worker_signals.%d.log",
	    (int)getpid());
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return -1;
	/* Accepted TCP sockets inherit it: the worker's writes wait for us. */
	if (setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny)) != 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0)
		return -1;
	snprintf(spec, sizeof(spec), "fd:%d", lfd);
	master = fork();
	if (master < 0)
		return -1;
	if (master == 0) {
		fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		setenv("TODO_LISTEN", spec, 1);
		setenv("TODO_WORKERS", "1", 1);
		setenv("TODO_TEMPLATE_DIR", tdir, 1);
		setenv("DATABASE_URL", "host=127.0.0.1 port=1", 1);
		setenv("TODO_STATUS_ALLOW", "127.0.0.1", 1);
		setenv("TODO_SHUTDOWN_TIMEOUT", "30", 1);
		/* Above what the slow tests take (about 4 s each). */
		setenv("TODO_REQUEST_TIMEOUT", "8", 1);
		execl(bin, "todo-fcgi", (char *)NULL);
		_exit(127);
	}
	close(lfd);
	return 0;
}

static int
stop_pool(void **state)
{
	int64_t end = mono_ms() + LONG_MS;
	int status;

	(void)state;
	if (master > 0) {
		kill(master, SIGTERM);
		while (waitpid(master, &status, WNOHANG) == 0 && mono_ms() < end)
			sleep_ms(20);
		if (mono_ms() >= end) {
			kill(master, SIGKILL);
			waitpid(master, &status, 0);
		}
	}
	if (getenv("TEST_VERBOSE") != NULL)
		dump_log();
	unlink(logpath);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warm_up),
		cmocka_unit_test(test_signals_while_reading_params),
		cmocka_unit_test(test_signals_while_writing_the_response),
		cmocka_unit_test(test_stalled_peer_is_bounded),
		cmocka_unit_test(test_idle_worker_stops),
		cmocka_unit_test(test_busy_worker_stops),
		cmocka_unit_test(test_serves_after),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_pool, stop_pool);
}
