/* test_rtproxy.c - drives the rtproxy binary (argv[1] or $RTPROXY) against
 * a line-echo server on loopback and checks bytes, counts and delay. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define WAIT_MS		10000	/* give up on the proxy after this */

struct stats {
	uint64_t round_trips, connections, bytes_up, bytes_down;
};

static const char *rtproxy_path;
static char tmpdir[PATH_MAX];
static char port_file[PATH_MAX + 16];
static char stats_file[PATH_MAX + 16];
static int echo_port;
static pid_t echo_pid = -1;
static pid_t proxy_pid = -1;	/* for teardown when an assertion fails */

static int64_t
now_ms(void)
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

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Serve one connection: echo each complete line, the rest at EOF. A line
 * "quit" makes the server close first. Only replying per line lets a test
 * write twice before any reply arrives. */
static void
echo_conn(int fd)
{
	char buf[65536], line[65536];
	size_t have = 0, i;
	ssize_t n;

	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < (size_t)n; i++) {
			line[have++] = buf[i];
			if (buf[i] != '\n' && have < sizeof(line))
				continue;
			if (have == 5 && memcmp(line, "quit\n", 5) == 0)
				_exit(0);
			if (write_all(fd, line, have) == -1)
				_exit(1);
			have = 0;
		}
	}
	if (have > 0)
		(void)write_all(fd, line, have);
	_exit(0);
}

static int
listen_loopback(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
start_echo(void)
{
	int lfd, cfd;

	if ((lfd = listen_loopback(&echo_port)) == -1)
		return -1;
	if ((echo_pid = fork()) == -1) {
		close(lfd);
		return -1;
	}
	if (echo_pid == 0) {
		/* Let the kernel reap the per-connection children. */
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			if ((cfd = accept(lfd, NULL, NULL)) == -1) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			switch (fork()) {
			case 0:
				close(lfd);
				echo_conn(cfd);
				_exit(0);
			default:
				close(cfd);
				break;
			}
		}
	}
	close(lfd);
	return 0;
}

static int
read_file(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int
wait_for_file(const char *path, char *buf, size_t cap)
{
	int64_t end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		if (read_file(path, buf, cap) == 0)
			return 0;
		sleep_ms(5);
	}
	return -1;
}

/* Start rtproxy towards target_port; returns its pid, sets *port. */
static pid_t
start_proxy_to(int target_port, const char *delay_ms, int *port)
{
	char target[64], buf[64];
	char *argv[12];
	pid_t pid;
	int i = 0;

	snprintf(target, sizeof(target), "127.0.0.1:%d", target_port);
	unlink(port_file);
	unlink(stats_file);
	argv[i++] = (char *)rtproxy_path;
	argv[i++] = (char *)"--listen";
	argv[i++] = (char *)"127.0.0.1:0";
	argv[i++] = (char *)"--target";
	argv[i++] = target;
	argv[i++] = (char *)"--port-file";
	argv[i++] = port_file;
	argv[i++] = (char *)"--stats-file";
	argv[i++] = stats_file;
	if (delay_ms != NULL) {
		argv[i++] = (char *)"--delay-ms";
		argv[i++] = (char *)delay_ms;
	}
	argv[i] = NULL;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execv(rtproxy_path, argv);
		_exit(127);
	}
	proxy_pid = pid;
	if (wait_for_file(port_file, buf, sizeof(buf)) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		proxy_pid = -1;
		return -1;
	}
	*port = atoi(buf);
	return pid;
}

static pid_t
start_proxy(const char *delay_ms, int *port)
{
	return start_proxy_to(echo_port, delay_ms, port);
}

static void
stop_proxy(pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	proxy_pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
parse_stats(const char *text, struct stats *st)
{
	int n;

	memset(st, 0xff, sizeof(*st));
	n = sscanf(text, "round_trips %" SCNu64 "\nconnections %" SCNu64
	    "\nbytes_up %" SCNu64 "\nbytes_down %" SCNu64 "\n",
	    &st->round_trips, &st->connections, &st->bytes_up,
	    &st->bytes_down);
	assert_int_equal(n, 4);
}

/* Signal the proxy and read the file it writes in answer. */
static void
signal_stats(pid_t pid, int sig, struct stats *st)
{
	char buf[512];

	unlink(stats_file);
	assert_int_equal(kill(pid, sig), 0);
	assert_int_equal(wait_for_file(stats_file, buf, sizeof(buf)), 0);
	parse_stats(buf, st);
}

static int
connect_port(int port)
{
	struct sockaddr_in sin;
	struct timeval tv = { WAIT_MS / 1000, 0 };
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	/* A broken proxy must fail the test, not hang it. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
read_exact(int fd, char *buf, size_t n)
{
	ssize_t r;
	size_t got = 0;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		if (r == -1 && errno == EINTR)
			continue;
		assert_true(r > 0);
		got += (size_t)r;
	}
}

static void
exchange(int fd, const char *msg)
{
	char buf[256];
	size_t n = strlen(msg);

	assert_true(n < sizeof(buf));
	assert_int_equal(write_all(fd, msg, n), 0);
	read_exact(fd, buf, n);
	assert_memory_equal(buf, msg, n);
}

/* Push more than the proxy's per-side bound through it both ways at
 * once, then half-close: everything must come back intact. */
static void
bulk_both_ways(const char *delay_ms)
{
	const size_t total = 3 * 1024 * 1024 + 17;
	struct pollfd pfd;
	struct stats st;
	char *out, *in;
	size_t sent = 0, got = 0, i;
	uint32_t x = 12345;
	ssize_t n;
	pid_t pid;
	int port, fd;

	out = malloc(total);
	in = malloc(total + 1);
	assert_non_null(out);
	assert_non_null(in);
	/* Every byte value, newlines included, so the echo comes back in
	 * many pieces; more than the proxy's per-side bound. */
	for (i = 0; i < total; i++) {
		x = x * 1103515245u + 12345u;
		out[i] = (char)(x >> 16);
	}
	pid = start_proxy(delay_ms, &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN | (sent < total ? POLLOUT : 0);
		assert_true(poll(&pfd, 1, WAIT_MS) > 0);
		if (sent < total && (pfd.revents & POLLOUT)) {
			n = send(fd, out + sent, total - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else
				assert_true(errno == EAGAIN);
			/* Half-close: the rest must still come back. */
			if (sent == total)
				assert_int_equal(shutdown(fd, SHUT_WR), 0);
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, in + got, total + 1 - got);
			if (n == 0)
				break;
			if (n > 0)
				got += (size_t)n;
			else
				assert_true(errno == EAGAIN);
		}
	}
	assert_int_equal(sent, total);
	assert_int_equal(got, total);
	assert_memory_equal(in, out, total);
	close(fd);
	signal_stats(pid, SIGUSR1, &st);
	assert_int_equal(st.bytes_up, total);
	assert_int_equal(st.bytes_down, total);
	assert_int_equal(st.connections, 1);
	stop_proxy(pid);
	free(out);
	free(in);
}

static void
test_bulk_both_ways(void **state)
{
	(void)state;
	bulk_both_ways(NULL);
}

static void
test_bulk_delayed(void **state)
{
	(void)state;
	bulk_both_ways("20");
}

static void
test_three_exchanges(void **state)
{
	struct stats st;
	pid_t pid;
	int port, fd;

	(void)state;
	pid = start_proxy(NULL, &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	exchange(fd, "one\n");
	exchange(fd, "two\n");
	exchange(fd, "three\n");
	signal_stats(pid, SIGUSR1, &st);
	assert_int_equal(st.round_trips, 3);
	assert_int_equal(st.connections, 1);
	assert_int_equal(st.bytes_up, 14);
	assert_int_equal(st.bytes_down, 14);
	close(fd);
	stop_proxy(pid);
}

static void
test_two_writes_one_trip(void **state)
{
	struct stats st;
	char buf[8];
	pid_t pid;
	int port, fd;

	(void)state;
	pid = start_proxy(NULL, &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	assert_int_equal(write_all(fd, "hel", 3), 0);
	/* Not needed for correctness: makes separate reads likely. */
	sleep_ms(20);
	assert_int_equal(write_all(fd, "lo\n", 3), 0);
	read_exact(fd, buf, 6);
	assert_memory_equal(buf, "hello\n", 6);
	signal_stats(pid, SIGUSR1, &st);
	assert_int_equal(st.round_trips, 1);
	exchange(fd, "again\n");
	signal_stats(pid, SIGUSR1, &st);
	assert_int_equal(st.round_trips, 2);
	close(fd);
	stop_proxy(pid);
}

static void
test_delay_lower_bound(void **state)
{
	char msg[64 * 8 + 1], buf[sizeof(msg)];
	int64_t t0, elapsed;
	size_t len = 0;
	pid_t pid;
	int port, fd, i;

	(void)state;
	pid = start_proxy("50", &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	t0 = now_ms();
	exchange(fd, "ping\n");
	elapsed = now_ms() - t0;
	/* 50 ms each way is a floor, whatever the machine's speed. */
	assert_true(elapsed >= 100);

	/* Many chunks in flight at once keep their order. */
	for (i = 0; i < 64; i++) {
		snprintf(msg + len, sizeof(msg) - len, "%06d\n", i);
		assert_int_equal(write_all(fd, msg + len, 7), 0);
		len += 7;
	}
	read_exact(fd, buf, len);
	assert_memory_equal(buf, msg, len);
	close(fd);
	stop_proxy(pid);
}

static void
test_reset_counters(void **state)
{
	struct stats st;
	char buf[512];
	pid_t pid;
	int port, fd;

	(void)state;
	pid = start_proxy(NULL, &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	exchange(fd, "a\n");
	exchange(fd, "b\n");
	signal_stats(pid, SIGUSR2, &st);
	assert_int_equal(st.round_trips, 0);
	assert_int_equal(st.connections, 0);
	assert_int_equal(st.bytes_up, 0);
	assert_int_equal(st.bytes_down, 0);
	exchange(fd, "c\n");
	signal_stats(pid, SIGUSR1, &st);
	assert_int_equal(st.round_trips, 1);
	assert_int_equal(st.connections, 0);
	assert_int_equal(st.bytes_up, 2);
	close(fd);
	/* Exit writes the file too. */
	unlink(stats_file);
	stop_proxy(pid);
	assert_int_equal(read_file(stats_file, buf, sizeof(buf)), 0);
	parse_stats(buf, &st);
	assert_int_equal(st.round_trips, 1);
}

static void
test_many_connections(void **state)
{
	enum { N = 40 };
	struct stats st;
	char msg[32];
	int fds[N], port, i, round;
	pid_t pid;

	(void)state;
	pid = start_proxy(NULL, &port);
	assert_true(pid > 0);
	for (i = 0; i < N; i++)
		fds[i] = connect_port(port);
	for (round = 0; round < 2; round++)
		for (i = 0; i < N; i++) {
			snprintf(msg, sizeof(msg), "c%d r%d\n", i, round);
			exchange(fds[i], msg);
		}
	signal_stats(pid, SIGUSR1, &st);
	assert_int_equal(st.round_trips, 2 * N);
	assert_int_equal(st.connections, N);
	for (i = 0; i < N; i++)
		close(fds[i]);
	stop_proxy(pid);
}

static void
test_server_closes_first(void **state)
{
	char buf[8];
	pid_t pid;
	int port, fd;

	(void)state;
	pid = start_proxy("5", &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	exchange(fd, "x\n");
	assert_int_equal(write_all(fd, "quit\n", 5), 0);
	/* The server's close reaches the client as EOF. */
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	stop_proxy(pid);
}

static void
test_target_down(void **state)
{
	char buf[8];
	ssize_t n;
	pid_t pid;
	int port, fd, dead_port, lfd;

	(void)state;
	/* A port that was just free and is not listening now. */
	lfd = listen_loopback(&dead_port);
	assert_true(lfd >= 0);
	close(lfd);
	pid = start_proxy_to(dead_port, NULL, &port);
	assert_true(pid > 0);
	fd = connect_port(port);
	n = read(fd, buf, sizeof(buf));
	assert_true(n == 0 || (n == -1 && errno == ECONNRESET));
	close(fd);
	stop_proxy(pid);
}

/* The exit status of rtproxy listening on LISTEN (it must exit by
 * itself: a refused address). */
static int
exit_status_of(const char *listen, bool allow_non_loopback)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		/* Its complaint is expected; keep the test output clean. */
		int fd = open("/dev/null", O_WRONLY);

		if (fd != -1)
			dup2(fd, STDERR_FILENO);
		if (allow_non_loopback)
			execl(rtproxy_path, rtproxy_path, "--listen", listen,
			    "--target", "127.0.0.1:1", "--allow-non-loopback",
			    (char *)NULL);
		else
			execl(rtproxy_path, rtproxy_path, "--listen", listen,
			    "--target", "127.0.0.1:1", (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_refuses_public_listen(void **state)
{
	(void)state;
	assert_int_equal(exit_status_of("0.0.0.0:0", false), 1);
	/* --allow-non-loopback takes one named address, never a wildcard. */
	assert_int_equal(exit_status_of("0.0.0.0:0", true), 1);
	assert_int_equal(exit_status_of("[::]:0", true), 1);
}

/* A failed assertion skips stop_proxy(); don't leave the proxy behind. */
static int
teardown(void **state)
{
	(void)state;
	if (proxy_pid > 0) {
		kill(proxy_pid, SIGKILL);
		waitpid(proxy_pid, NULL, 0);
		proxy_pid = -1;
	}
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_rtproxy.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(port_file, sizeof(port_file), "%s/port", tmpdir);
	snprintf(stats_file, sizeof(stats_file), "%s/stats", tmpdir);
	return start_echo();
}

static int
group_teardown(void **state)
{
	(void)state;
	if (echo_pid > 0) {
		kill(echo_pid, SIGKILL);
		waitpid(echo_pid, NULL, 0);
	}
	unlink(port_file);
	unlink(stats_file);
	rmdir(tmpdir);
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bulk_both_ways, teardown),
		cmocka_unit_test_teardown(test_bulk_delayed, teardown),
		cmocka_unit_test_teardown(test_three_exchanges, teardown),
		cmocka_unit_test_teardown(test_two_writes_one_trip, teardown),
		cmocka_unit_test_teardown(test_delay_lower_bound, teardown),
		cmocka_unit_test_teardown(test_reset_counters, teardown),
		cmocka_unit_test_teardown(test_many_connections, teardown),
		cmocka_unit_test_teardown(test_server_closes_first, teardown),
		cmocka_unit_test_teardown(test_target_down, teardown),
		cmocka_unit_test_teardown(test_refuses_public_listen, teardown),
	};

	rtproxy_path = argc > 1 ? argv[1] : getenv("RTPROXY");
	if (rtproxy_path == NULL) {
		fprintf(stderr, "usage: test_rtproxy PATH_TO_RTPROXY "
		    "(or set RTPROXY)\n");
		return 77;	/* automake: skipped */
	}
	return cmocka_run_group_tests_name("rtproxy", tests, group_setup,
	    group_teardown);
}
