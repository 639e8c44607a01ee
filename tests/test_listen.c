/* test_listen.c - the FastCGI listening socket: unix (mode, stale file,
 * in use), TCP, inherited fd 0, bad specs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	};

	return cmocka_run_group_tests_name("listen", tests, setup, teardown);
}
