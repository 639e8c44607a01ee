/* log.h - one logfmt line per event on stderr:
 *   ts=2026-11-21T08:00:00.123Z level=error pid=123 req=abc msg="..." k=v
 * The request id of the request in flight (if any) is added by itself. */
#ifndef TODO_LOG_H
#define TODO_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* Send standard error (log lines, and whatever libraries print there) to
 * path, appending; remembered for log_reopen(). -1 with errno on failure,
 * standard error unchanged. */
int log_open_file(const char *path);
/* After a rotation (SIGUSR1): open the remembered path again. 0 when
 * there is none; -1 with errno (the old file stays in use). */
int log_reopen(void);
/* Request id for lines logged until the next call (NULL clears). */
void log_set_request_id(const char *id);
/* fmt describes the message; it is quoted and escaped as one logfmt value.
 * Extra key=value pairs can follow via log_kv(). */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
