/* log.c - see log.h. Each line is built in a stack buffer and written with
 * one write(2) so lines from several workers never interleave. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static char request_id[64];

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static char log_path[512];     /* TODO_LOG_FILE, empty: stderr as it is */

int
log_open_file(const char *path)
{
	int fd, e;

	if (strlen(path) >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd == -1)
		return -1;
	if (dup2(fd, STDERR_FILENO) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	if (log_path != path)
		snprintf(log_path, sizeof(log_path), "%s", path);
	return 0;
}

int
log_reopen(void)
{
	return log_path[0] == '\0' ? 0 : log_open_file(log_path);
}

void
log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

void
log_set_request_id(const char *id)
{
	if (id == NULL) {
		request_id[0] = '\0';
		return;
	}
	snprintf(request_id, sizeof(request_id), "%s", id);
}

/* Append src to dst[*len..cap) quoting '"' and '\\' and dropping controls. */
static void
append_escaped(char *dst, size_t *len, size_t cap, const char *src)
{
	for (; *src != '\0' && *len + 2 < cap; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == '"' || c == '\\') {
			dst[(*len)++] = '\\';
			dst[(*len)++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			dst[(*len)++] = ' ';
		} else {
			dst[(*len)++] = (char)c;
		}
	}
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[1024], line[1400];
	struct timespec ts;
	struct tm tm;
	size_t len;
	va_list ap;
	int n;

	if (lvl < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s pid=%ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl],
	    (long)getpid());
	len = n > 0 ? (size_t)n : 0;
	if (request_id[0] != '\0') {
		n = snprintf(line + len, sizeof(line) - len, " req=%s", request_id);
		if (n > 0)
			len += (size_t)n;
	}
	n = snprintf(line + len, sizeof(line) - len, " msg=\"");
	if (n > 0)
		len += (size_t)n;
	append_escaped(line, &len, sizeof(line) - 2, msg);
	line[len++] = '"';
	line[len++] = '\n';
	/* A failed log write has nowhere to be reported. */
	(void)!write(STDERR_FILENO, line, len);
}
