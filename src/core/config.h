/* config.h - every setting of todo-fcgi and todoctl, read from the
 * environment and optionally an env file (KEY=VALUE lines; variables
 * already in the environment win). One table in config.c lists each
 * setting with its default per environment and its validation; a bad
 * value is an error that names the variable.
 *
 * TODO_ENV picks a profile: its defaults, and its rules. Staging and
 * production refuse a DATABASE_URL without sslmode=verify-full (a local
 * database only with TODO_ALLOW_LOCAL_DATABASE=1) and a TODO_PUBLIC_ORIGIN
 * that is not https://; production also sets cookie_secure and hsts, and
 * refuses TODO_LOG_LEVEL=debug. Origins are normalised (a trailing slash,
 * case, a default port: with a warning) or refused. An unknown TODO_* name
 * in the environment is a warning, in an env file an error; both suggest
 * the closest setting. Warnings go to the log (log.h). */
#ifndef TODO_CONFIG_H
#define TODO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

enum config_env { ENV_DEVELOPMENT, ENV_STAGING, ENV_PRODUCTION };

struct config {
	enum config_env env;        /* TODO_ENV */
	char database_url[1024];    /* DATABASE_URL (empty: libpq defaults) */
	int allow_local_database;   /* TODO_ALLOW_LOCAL_DATABASE (0/1) */
	char listen[512];           /* TODO_LISTEN: unix:/path, 127.0.0.1:9000, fd:0 */
	int socket_mode;            /* TODO_SOCKET_MODE (octal) */
	char socket_group[64];      /* TODO_SOCKET_GROUP */
	char user[64];              /* TODO_USER: drop root to this user */
	int backlog;                /* TODO_BACKLOG */
	int workers;                /* least workers: TODO_WORKERS_MIN or TODO_WORKERS */
	int workers_min;            /* TODO_WORKERS_MIN as set (0: unset) */
	int workers_max;            /* most: TODO_WORKERS_MAX, at least workers */
	int workers_idle_timeout;   /* TODO_WORKERS_IDLE_TIMEOUT seconds */
	int max_requests;           /* TODO_MAX_REQUESTS, 0 = never recycle */
	int request_timeout;        /* TODO_REQUEST_TIMEOUT seconds */
	int shutdown_timeout;       /* TODO_SHUTDOWN_TIMEOUT seconds */
	int max_body;               /* TODO_MAX_BODY bytes */
	int arena_cap;              /* TODO_ARENA_CAP bytes per request */
	int slow_ms;                /* TODO_SLOW_MS: log requests slower than this */
	char status_allow[256];     /* TODO_STATUS_ALLOW: who sees /status, /metrics */
	int db_connect_timeout;     /* TODO_DB_CONNECT_TIMEOUT seconds */
	int db_timeout;             /* TODO_DB_TIMEOUT seconds per database call */
	char template_dir[512];     /* TODO_TEMPLATE_DIR */
	char static_url[256];       /* TODO_STATIC_URL: URL prefix of static/ */
	char sql_dir[512];          /* TODO_SQL_DIR (todoctl) */
	char public_origin[256];    /* TODO_PUBLIC_ORIGIN: scheme://host[:port],
	                             * normalised; empty = derive from Host */
	char log_file[512];         /* TODO_LOG_FILE: empty = stderr */
	char log_level[16];         /* TODO_LOG_LEVEL: debug|info|warn|error */
	int session_idle;           /* TODO_SESSION_IDLE seconds (issue 8) */
	int session_max;            /* TODO_SESSION_MAX seconds */
	int session_touch;          /* TODO_SESSION_TOUCH seconds */
	int login_window;           /* TODO_LOGIN_WINDOW seconds: failed
	                             * sign-ins are counted in it */
	int login_max_failures;     /* TODO_LOGIN_MAX_FAILURES per email */
	int login_max_address_failures; /* TODO_LOGIN_MAX_ADDRESS_FAILURES
	                             * per client address */
	/* Set by the profile, not by a setting: */
	bool cookie_secure;         /* Secure on the app's cookies */
	char hsts[64];              /* Strict-Transport-Security value, or "" */
};

/* Fill c with the profile's defaults, then the env file (if non-NULL),
 * then the environment, and apply the profile's rules. On error returns
 * TD_EINVAL with a message in err (the setting and the fix). */
enum td_status config_load(struct config *c, const char *env_file,
    char *err, size_t errlen);
/* "development", "staging", "production". */
const char *config_env_name(enum config_env env);
/* Name of the i-th setting in the table, NULL past the last. */
const char *config_setting_name(size_t i);
/* Print the settings table (name, default, meaning) for --help. */
void config_print_help(void);

#endif
