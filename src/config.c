/* config.c - settings table, env file parsing, validation. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#ifndef TODO_DATADIR
#define TODO_DATADIR "."
#endif

enum kind { K_STR, K_INT, K_MODE, K_LEVEL };

struct setting {
	const char *name;
	enum kind kind;
	size_t off;
	size_t size;          /* K_STR: buffer size */
	long min, max;        /* K_INT */
	const char *def;
	const char *help;
};

#define STR(n, f, d, h)  { n, K_STR, offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0, d, h }
#define INT(n, f, lo, hi, d, h) { n, K_INT, offsetof(struct config, f), 0, lo, hi, d, h }

static const struct setting settings[] = {
	STR("DATABASE_URL", database_url, "", "libpq connection string or URI (empty: libpq's PG* defaults)"),
	STR("TODO_LISTEN", listen, "127.0.0.1:9000", "FastCGI socket: unix:/path, 127.0.0.1:PORT, or fd:0 (inherited, as spawn-fcgi does)"),
	{ "TODO_SOCKET_MODE", K_MODE, offsetof(struct config, socket_mode), 0, 0, 0777, "0660", "mode of a unix socket (octal)", },
	STR("TODO_SOCKET_GROUP", socket_group, "", "group owning a unix socket (empty: unchanged)"),
	INT("TODO_BACKLOG", backlog, 1, 65535, "128", "listen backlog"),
	INT("TODO_WORKERS", workers, 1, 256, "4", "worker processes (each holds one database connection)"),
	INT("TODO_MAX_REQUESTS", max_requests, 0, 1000000000, "10000", "requests before a worker is recycled (0: never)"),
	INT("TODO_REQUEST_TIMEOUT", request_timeout, 0, 3600, "30", "seconds a request may run before its worker is killed (0: no limit)"),
	INT("TODO_SHUTDOWN_TIMEOUT", shutdown_timeout, 1, 3600, "10", "seconds workers get to finish on stop or reload before SIGKILL"),
	INT("TODO_MAX_BODY", max_body, 1024, 16777216, "65536", "largest request body in bytes (larger: 413)"),
	INT("TODO_ARENA_CAP", arena_cap, 65536, 268435456, "8388608", "most memory one request may allocate, in bytes"),
	INT("TODO_SLOW_MS", slow_ms, 0, 3600000, "500", "log requests slower than this many ms (0: log all)"),
	INT("TODO_DB_CONNECT_TIMEOUT", db_connect_timeout, 1, 120, "5", "seconds todoctl waits for a database connection (a worker waits at most TODO_DB_TIMEOUT)"),
	INT("TODO_DB_TIMEOUT", db_timeout, 1, 600, "5", "seconds one database call of a request may take; past it the statement is cancelled and the page answers 503 (must be below TODO_REQUEST_TIMEOUT)"),
	STR("TODO_TEMPLATE_DIR", template_dir, TODO_DATADIR "/templates", "directory of the HTML templates"),
	STR("TODO_STATIC_URL", static_url, "/static", "URL prefix under which nginx serves static/"),
	STR("TODO_SQL_DIR", sql_dir, TODO_DATADIR "/sql", "directory of the schema migrations (todoctl)"),
	STR("TODO_PUBLIC_ORIGIN", public_origin, "", "origin accepted for form posts, e.g. https://todo.example.com (empty: scheme://Host of the request)"),
	{ "TODO_LOG_LEVEL", K_LEVEL, offsetof(struct config, log_level), sizeof(((struct config *)0)->log_level), 0, 0, "info", "debug, info, warn or error" },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
#define MAX_FILE_VARS 128

struct file_var {
	char *name;
	char *value;
};

static const struct setting *
find_setting(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strlen(settings[i].name) == len &&
		    memcmp(settings[i].name, name, len) == 0)
			return &settings[i];
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Parse KEY=VALUE lines (optional "export ", quotes, # comments). */
static enum td_status
read_env_file(const char *path, struct file_var *vars, size_t *nvars,
    char *err, size_t errlen)
{
	enum td_status rc = TD_EINVAL;
	char line[4096];
	int lineno = 0;
	FILE *f;

	*nvars = 0;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return TD_ESYSTEM;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *eq, *val;
		size_t vlen;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p = trim(p + 7);
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected NAME=VALUE", path, lineno);
			goto out;
		}
		*eq = '\0';
		p = trim(p);
		val = trim(eq + 1);
		vlen = strlen(val);
		if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
			val[vlen - 1] = '\0';
			val++;
		}
		if (find_setting(p, strlen(p)) == NULL) {
			if (strncmp(p, "TODO_", 5) == 0) {
				snprintf(err, errlen, "%s:%d: unknown setting %s", path, lineno, p);
				goto out;
			}
			continue;   /* other programs' variables may share the file */
		}
		if (*nvars == MAX_FILE_VARS) {
			snprintf(err, errlen, "%s: too many settings", path);
			goto out;
		}
		vars[*nvars].name = strdup(p);
		vars[*nvars].value = strdup(val);
		if (vars[*nvars].name == NULL || vars[*nvars].value == NULL) {
			free(vars[*nvars].name);
			free(vars[*nvars].value);
			rc = TD_ENOMEM;
			goto out;
		}
		(*nvars)++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = TD_OK;
out:
	fclose(f);
	return rc;
}

static enum td_status
apply(struct config *c, const struct setting *s, const char *val,
    const char *from, char *err, size_t errlen)
{
	char *end;
	long v;

	switch (s->kind) {
	case K_STR:
		if (strlen(val) >= s->size) {
			snprintf(err, errlen, "%s%s: value longer than %zu bytes",
			    s->name, from, s->size - 1);
			return TD_EINVAL;
		}
		memcpy((char *)c + s->off, val, strlen(val) + 1);
		return TD_OK;
	case K_INT:
	case K_MODE:
		errno = 0;
		v = strtol(val, &end, s->kind == K_MODE ? 8 : 10);
		if (*val == '\0' || *end != '\0' || errno != 0 ||
		    v < s->min || v > s->max) {
			snprintf(err, errlen, s->kind == K_MODE ?
			    "%s%s: \"%s\" is not an octal mode" :
			    "%s%s: \"%s\" is not a whole number from %ld to %ld",
			    s->name, from, val, s->min, s->max);
			return TD_EINVAL;
		}
		*(int *)(void *)((char *)c + s->off) = (int)v;
		return TD_OK;
	case K_LEVEL:
		if (strcmp(val, "debug") != 0 && strcmp(val, "info") != 0 &&
		    strcmp(val, "warn") != 0 && strcmp(val, "error") != 0) {
			snprintf(err, errlen, "%s%s: \"%s\" is not one of debug, info, warn, error",
			    s->name, from, val);
			return TD_EINVAL;
		}
		snprintf((char *)c + s->off, s->size, "%s", val);
		return TD_OK;
	}
	return TD_EINVAL;
}

enum td_status
config_load(struct config *c, const char *env_file, char *err, size_t errlen)
{
	struct file_var vars[MAX_FILE_VARS];
	size_t nvars = 0, i, j;
	enum td_status rc = TD_OK;

	memset(c, 0, sizeof(*c));
	if (env_file != NULL &&
	    (rc = read_env_file(env_file, vars, &nvars, err, errlen)) != TD_OK)
		goto out;
	for (i = 0; i < NSETTINGS && rc == TD_OK; i++) {
		const struct setting *s = &settings[i];
		const char *val = getenv(s->name), *from = " (environment)";

		if (val == NULL) {
			val = s->def;
			from = " (default)";
			for (j = 0; j < nvars; j++)
				if (strcmp(vars[j].name, s->name) == 0) {
					val = vars[j].value;  /* last one in the file wins */
					from = " (env file)";
				}
		}
		rc = apply(c, s, val, from, err, errlen);
	}
	/* The watchdog must not fire before a request's database call had
	 * its chance to be cancelled and answered with a 503. */
	if (rc == TD_OK && c->request_timeout != 0 &&
	    c->db_timeout >= c->request_timeout) {
		snprintf(err, errlen, "TODO_DB_TIMEOUT (%d s) must be below TODO_REQUEST_TIMEOUT (%d s)",
		    c->db_timeout, c->request_timeout);
		rc = TD_EINVAL;
	}
	/* Once here, not at every worker's reconnect: libpq's own parse
	 * error quotes the string, password included, so it is dropped. */
	if (rc == TD_OK && c->database_url[0] != '\0') {
		PQconninfoOption *opts;
		char *perr = NULL;

		if ((opts = PQconninfoParse(c->database_url, &perr)) == NULL) {
			/* No message at all: libpq ran out of memory. */
			snprintf(err, errlen, perr == NULL ? "DATABASE_URL: out of memory while parsing it" :
			    "DATABASE_URL is not a valid libpq connection string or URI (the value is not shown: it may hold a password)");
			rc = perr == NULL ? TD_ENOMEM : TD_EINVAL;
			PQfreemem(perr);
		} else
			PQconninfoFree(opts);
	}
out:
	for (j = 0; j < nvars; j++) {
		free(vars[j].name);
		free(vars[j].value);
	}
	return rc;
}

void
config_print_help(void)
{
	size_t i;

	printf("Settings (environment variables, or NAME=VALUE lines in --env-file):\n");
	for (i = 0; i < NSETTINGS; i++)
		printf("  %-24s %s (default: \"%s\")\n", settings[i].name,
		    settings[i].help, settings[i].def);
}
