/* config.h - every setting of todo-fcgi and todoctl, read from the
 * environment and optionally an env file (KEY=VALUE lines; variables
 * already in the environment win). One table in config.c lists each
 * setting with its default and validation; a bad value is an error that
 * names the variable. */
#ifndef TODO_CONFIG_H
#define TODO_CONFIG_H

#include <stddef.h>

#include "status.h"

struct config {
	char database_url[1024];    /* DATABASE_URL (empty: libpq defaults) */
	char listen[512];           /* TODO_LISTEN: unix:/path, 127.0.0.1:9000, fd:0 */
	int socket_mode;            /* TODO_SOCKET_MODE (octal) */
	char socket_group[64];      /* TODO_SOCKET_GROUP */
	int backlog;                /* TODO_BACKLOG */
	int workers;                /* TODO_WORKERS */
	int max_requests;           /* TODO_MAX_REQUESTS, 0 = never recycle */
	int request_timeout;        /* TODO_REQUEST_TIMEOUT seconds */
	int shutdown_timeout;       /* TODO_SHUTDOWN_TIMEOUT seconds */
	int max_body;               /* TODO_MAX_BODY bytes */
	int arena_cap;              /* TODO_ARENA_CAP bytes per request */
	int slow_ms;                /* TODO_SLOW_MS: log requests slower than this */
	int db_connect_timeout;     /* TODO_DB_CONNECT_TIMEOUT seconds */
	int db_timeout;             /* TODO_DB_TIMEOUT seconds per database call */
	char template_dir[512];     /* TODO_TEMPLATE_DIR */
	char static_url[256];       /* TODO_STATIC_URL: URL prefix of static/ */
	char sql_dir[512];          /* TODO_SQL_DIR (todoctl) */
	char public_origin[256];    /* TODO_PUBLIC_ORIGIN: accepted Origin, empty = derive from Host */
	char log_level[16];         /* TODO_LOG_LEVEL: debug|info|warn|error */
};

/* Fill c with defaults, then the env file (if non-NULL), then the
 * environment. On error returns TD_EINVAL with a message in err. */
enum td_status config_load(struct config *c, const char *env_file,
    char *err, size_t errlen);
/* Print the settings table (name, default, meaning) for --help. */
void config_print_help(void);

#endif
