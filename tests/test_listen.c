/* test_listen.c - the FastCGI listening socket: unix (mode, stale file,
 * in use), TCP, inherited fd 0, bad specs; the accept queue's length. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"

static char dir[] = "/tmp/test_listen.XXXXXX";

static void
test_unix_socket_mode_and_stale_file(void **state)
{
	char spec[160], path[128], err[256];
	struct stat st;
	int fd, fd2;

	(void)state;
	snprintf(path, sizeof(path), "%s/a.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	assert_int_equal(listen_open(spec, 0640, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	/* In use by a live listener: refused, not stolen. */
	assert_int_equal(listen_open(spec, 0660, "", 16, &fd2, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "in use"));
	close(fd);
	/* A stale socket file left by a dead process is replaced. */
	assert_int_equal(listen_open(spec, 0660, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	close(fd);
	listen_cleanup(spec);
	assert_int_not_equal(stat(path, &st), 0);
}

static void
test_unix_refuses_regular_file_and_bad_group(void **state)
{
	char spec[160], path[128], err[256];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	assert_int_equal(listen_open(spec, 0660, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "not a socket"));
	unlink(path);
	snprintf(spec, sizeof(spec), "unix:%s/b.sock", dir);
	assert_int_equal(listen_open(spec, 0660, "no-such-group-xyz", 16, &fd, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "TODO_SOCKET_GROUP"));
}

static void
test_tcp_loopback(void **state)
{
	char err[256];
	int fd, accepting = 0;
	socklen_t len = sizeof(accepting);

	(void)state;
	assert_int_equal(listen_open("127.0.0.1:0", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len), 0);
	assert_true(accepting);
	close(fd);
	assert_int_not_equal(listen_open("nonsense", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_non_null(strstr(err, "TODO_LISTEN"));
	assert_int_not_equal(listen_open("127.0.0.1:", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
}

static void
test_inherited_fd0(void **state)
{
	char err[256];
	int saved = dup(0), lfd, fd, null;

	(void)state;
	/* Not a socket on fd 0: refused with a clear message. */
	null = open("/dev/null", O_RDONLY);
	dup2(null, 0);
	assert_int_equal(listen_open("fd:0", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "descriptor 0 is not a listening socket"));
	/* A listening socket on fd 0, as spawn-fcgi hands it over. */
	assert_int_equal(listen_open("127.0.0.1:0", 0, "", 16, &lfd, err, sizeof(err)), TD_OK);
	dup2(lfd, 0);
	assert_int_equal(listen_open("fd:0", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(fd, 0);
	dup2(saved, 0);
	close(saved);
	close(lfd);
	close(null);
}

/* Any descriptor (fd:N), and systemd's socket activation (fd 3, only for
 * the process LISTEN_PID names, variables removed afterwards). */
static void
test_inherited_fd_n_and_systemd(void **state)
{
	char err[256], pid[32];
	int lfd, fd, saved3 = dup(3);

	(void)state;
	assert_int_equal(listen_open("127.0.0.1:0", 0, "", 16, &lfd, err, sizeof(err)), TD_OK);
	assert_int_equal(dup2(lfd, 7), 7);
	assert_int_equal(listen_open("fd:7", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(fd, 7);
	assert_int_equal(listen_open("fd:x", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	assert_int_equal(listen_open("fd:-1", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	assert_int_equal(listen_open("fd:99999999999", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	close(7);
	assert_int_equal(listen_open("fd:7", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);

	/* Not passed to us: refused. */
	unsetenv("LISTEN_PID");
	assert_int_equal(listen_open("systemd", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "LISTEN_PID"));
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	assert_int_equal(listen_open("systemd", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	assert_int_equal(listen_open("systemd", 0, "", 16, &fd, err, sizeof(err)), TD_EINVAL);
	setenv("LISTEN_FDS", "1", 1);
	assert_int_equal(dup2(lfd, 3), 3);
	assert_int_equal(listen_open("systemd", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(fd, 3);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	if (saved3 >= 0) {
		dup2(saved3, 3);
		close(saved3);
	} else
		close(3);
	close(lfd);
}

/* listen_queue until it says want, for at most a second: a TCP
 * connection reaches the accept queue when the kernel has the client's
 * ACK, a moment after the client's connect() returned. */
static int
queue_reaches(int fd, int want, int *backlog)
{
	struct timespec ms = { 0, 1000000 };
	int queued = -1, i;

	for (i = 0; i < 1000; i++) {
		assert_int_equal(listen_queue(fd, &queued, backlog), TD_OK);
		if (queued == want)
			return queued;
		nanosleep(&ms, NULL);
	}
	return queued;
}

/* Connections nobody accepted are counted, one by one; accepting one
 * takes it off. Not a listening socket: TD_EINVAL. */
static void
check_queue(int lfd, const struct sockaddr *addr, socklen_t alen)
{
	int c[5], backlog = 0, queued = 0, i, a;

	assert_int_equal(queue_reaches(lfd, 0, &backlog), 0);
	assert_int_equal(backlog, 16);
	for (i = 0; i < 5; i++) {
		c[i] = socket(addr->sa_family, SOCK_STREAM, 0);
		assert_true(c[i] >= 0);
		assert_int_equal(connect(c[i], addr, alen), 0);
		assert_int_equal(queue_reaches(lfd, i + 1, &backlog), i + 1);
		assert_int_equal(backlog, 16);
	}
	a = accept(lfd, NULL, NULL);
	assert_true(a >= 0);
	assert_int_equal(queue_reaches(lfd, 4, &backlog), 4);
	/* The accepted end and a client are not listeners. */
	assert_int_equal(listen_queue(a, &queued, &backlog), TD_EINVAL);
	assert_int_equal(queued, -1);
	assert_int_equal(listen_queue(c[0], &queued, &backlog), TD_EINVAL);
	close(a);
	/* A client that gave up is still queued until a worker accepts it. */
	for (i = 0; i < 5; i++)
		close(c[i]);
	assert_int_equal(queue_reaches(lfd, 4, &backlog), 4);
}

static void
test_listen_queue_unix(void **state)
{
	struct sockaddr_un sun;
	char spec[160], err[256];
	int fd;

	(void)state;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/q.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", sun.sun_path);
	assert_int_equal(listen_open(spec, 0600, "", 16, &fd, err, sizeof(err)), TD_OK);
	check_queue(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	listen_cleanup(spec);
}

static void
test_listen_queue_tcp(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(listen_open("127.0.0.1:0", 0, "", 16, &fd, err, sizeof(err)), TD_OK);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	check_queue(fd, (struct sockaddr *)&sin, len);
	close(fd);
}

static void
test_listen_queue_not_a_listener(void **state)
{
	int fd, queued, backlog, sv[2];

	(void)state;
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(listen_queue(fd, &queued, &backlog), TD_EINVAL);
	close(fd);
	assert_int_equal(listen_queue(fd, &queued, &backlog), TD_EINVAL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(listen_queue(sv[0], &queued, &backlog), TD_EINVAL);
	close(sv[0]);
	close(sv[1]);
	/* Bound but not listening. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(listen_queue(fd, &queued, &backlog), TD_EINVAL);
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_socket_mode_and_stale_file),
		cmocka_unit_test(test_unix_refuses_regular_file_and_bad_group),
		cmocka_unit_test(test_tcp_loopback),
		cmocka_unit_test(test_inherited_fd0),
		cmocka_unit_test(test_inherited_fd_n_and_systemd),
		cmocka_unit_test(test_listen_queue_unix),
		cmocka_unit_test(test_listen_queue_tcp),
		cmocka_unit_test(test_listen_queue_not_a_listener),
	};

	return cmocka_run_group_tests_name("listen", tests, setup, teardown);
}
