/* config.c - settings table, profiles, env file parsing, validation. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"

#ifndef TODO_DATADIR
#define TODO_DATADIR "."
#endif

enum kind { K_STR, K_INT, K_MODE, K_LEVEL, K_ENV, K_BOOL, K_ORIGIN };

#define NENVS 3

static const char *const env_names[NENVS] = {
	[ENV_DEVELOPMENT] = "development",
	[ENV_STAGING] = "staging",
	[ENV_PRODUCTION] = "production",
};

/* What a profile turns on by itself (its defaults are in the table). */
static const struct profile {
	bool strict;             /* verified TLS to the database, https origin */
	bool cookie_secure;
	const char *hsts;
	bool no_debug_log;
} profiles[NENVS] = {
	[ENV_DEVELOPMENT] = { false, false, "", false },
	/* Staging is served over HTTPS only, so its cookies can be Secure
	 * (and the accounts' __Host- cookie needs it); no HSTS, which would
	 * stick in testers' browsers. */
	[ENV_STAGING] = { true, true, "", false },
	/* nginx sends HSTS too; the app's copy covers a proxy that forgot. */
	[ENV_PRODUCTION] = { true, true, "max-age=31536000; includeSubDomains", true },
};

struct setting {
	const char *name;
	enum kind kind;
	size_t off;
	size_t size;          /* string kinds: buffer size */
	long min, max;        /* K_INT, K_MODE */
	const char *def[NENVS];   /* by enum config_env */
	const char *help;
};

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define SAME(d) { d, d, d }
#define PER_ENV(dev, stg, prod) { dev, stg, prod }
#define STR(n, f, d, h)  { n, K_STR, FIELD(f), 0, 0, SAME(d), h }
#define INT(n, f, lo, hi, d, h) { n, K_INT, FIELD(f), lo, hi, SAME(d), h }
#define INT_ENV(n, f, lo, hi, d3, h) { n, K_INT, FIELD(f), lo, hi, d3, h }

/* The one list of settings. A default that differs by TODO_ENV is written
 * PER_ENV(development, staging, production); keep those few. */
static const struct setting settings[] = {
	{ "TODO_ENV", K_ENV, FIELD(env), 0, 0, SAME("development"), "development, staging or production: the profile of defaults and rules" },
	STR("DATABASE_URL", database_url, "", "libpq connection string or URI (empty: libpq's PG* defaults); staging and production need sslmode=verify-full"),
	{ "TODO_ALLOW_LOCAL_DATABASE", K_BOOL, FIELD(allow_local_database), 0, 1, SAME("0"), "1: staging and production accept a database on this machine (unix socket or localhost), TLS or not" },
	STR("TODO_LISTEN", listen, "127.0.0.1:9000", "FastCGI socket: unix:/path, 127.0.0.1:PORT, fd:N (inherited; spawn-fcgi uses fd:0) or systemd (socket activation)"),
	{ "TODO_SOCKET_MODE", K_MODE, FIELD(socket_mode), 0, 0777, SAME("0660"), "mode of a unix socket (octal)" },
	STR("TODO_SOCKET_GROUP", socket_group, "", "group owning a unix socket (empty: unchanged)"),
	STR("TODO_USER", user, "", "started as root: the user to switch to once the socket is open (refused as root without it in staging and production)"),
	INT("TODO_BACKLOG", backlog, 1, 65535, "128", "listen backlog"),
	INT_ENV("TODO_WORKERS", workers, 1, 256, PER_ENV("4", "4", "8"), "worker processes (each holds one database connection); a fixed pool unless TODO_WORKERS_MAX is above it"),
	INT("TODO_WORKERS_MIN", workers_min, 0, 256, "0", "workers started and always kept when the pool is sized by demand (0: TODO_WORKERS)"),
	INT("TODO_WORKERS_MAX", workers_max, 0, 256, "0", "most workers when every one is busy and connections wait (0: the fixed pool of TODO_WORKERS_MIN or TODO_WORKERS); each holds one database connection: mind the database's connection limit"),
	INT("TODO_WORKERS_IDLE_TIMEOUT", workers_idle_timeout, 1, 3600, "10", "seconds of lower demand before the pool stops a worker it grew (one per second, never below TODO_WORKERS_MIN)"),
	INT("TODO_MAX_REQUESTS", max_requests, 0, 1000000000, "10000", "requests before a worker is recycled (0: never)"),
	INT("TODO_REQUEST_TIMEOUT", request_timeout, 0, 3600, "30", "seconds a request may run before its worker is killed (0: no limit)"),
	INT("TODO_SHUTDOWN_TIMEOUT", shutdown_timeout, 1, 3600, "10", "seconds workers get to finish on stop or reload before SIGKILL"),
	INT("TODO_MAX_BODY", max_body, 1024, 16777216, "65536", "largest request body in bytes (larger: 413)"),
	INT("TODO_ARENA_CAP", arena_cap, 4194304, 268435456, "8388608", "most memory one request may allocate, in bytes"),
	INT("TODO_SLOW_MS", slow_ms, 0, 3600000, "500", "log requests slower than this many ms (0: log all)"),
	STR("TODO_STATUS_ALLOW", status_allow, "127.0.0.1 ::1", "client addresses (REMOTE_ADDR) or CIDR prefixes, separated by spaces or commas, that may see /status and /metrics; anyone else gets 404 (empty: nobody)"),
	INT("TODO_DB_CONNECT_TIMEOUT", db_connect_timeout, 1, 120, "5", "seconds todo-fcgi's start-up schema check waits for the database (todoctl waits 15 s, for a Neon compute to wake; a worker waits at most TODO_DB_TIMEOUT)"),
	INT("TODO_DB_TIMEOUT", db_timeout, 1, 600, "5", "seconds one database call of a request may take; past it the statement is cancelled and the page answers 503 (must be below TODO_REQUEST_TIMEOUT)"),
	STR("TODO_TEMPLATE_DIR", template_dir, TODO_DATADIR "/templates", "directory of the HTML templates"),
	STR("TODO_STATIC_URL", static_url, "/static", "URL prefix under which nginx serves static/"),
	STR("TODO_SQL_DIR", sql_dir, TODO_DATADIR "/sql", "directory of the schema migrations (todoctl)"),
	{ "TODO_PUBLIC_ORIGIN", K_ORIGIN, FIELD(public_origin), 0, 0, SAME(""), "origin accepted for form posts, e.g. https://todo.example.com (empty: scheme://Host of the request; staging and production need an https:// one)" },
	STR("TODO_LOG_FILE", log_file, "", "append log lines to this file instead of standard error; SIGUSR1 to the master reopens it after a rotation (empty: standard error, e.g. journald)"),
	{ "TODO_LOG_LEVEL", K_LEVEL, FIELD(log_level), 0, 0, SAME("info"), "debug, info, warn or error (production refuses debug)" },
	INT("TODO_SESSION_IDLE", session_idle, 60, 31536000, "604800", "seconds a signed-in session lasts without a request (default 7 days; at most TODO_SESSION_MAX)"),
	INT("TODO_SESSION_MAX", session_max, 60, 31536000, "2592000", "seconds a session lasts at most, however active (default 30 days; the cookie's Max-Age)"),
	INT("TODO_SESSION_TOUCH", session_touch, 1, 86400, "300", "seconds a session's \"last seen\" may be behind before a request writes it again (below TODO_SESSION_IDLE)"),
	INT("TODO_LOGIN_WINDOW", login_window, 1, 86400, "900", "seconds in which failed sign-ins are counted, from the first failure; a throttled sign-in waits until the window ends (Retry-After)"),
	INT("TODO_LOGIN_MAX_FAILURES", login_max_failures, 1, 1000, "5", "failed sign-ins for one email within TODO_LOGIN_WINDOW before sign-in answers 429"),
	INT("TODO_LOGIN_MAX_ADDRESS_FAILURES", login_max_address_failures, 1, 100000, "50", "failed sign-ins from one client address (REMOTE_ADDR) within TODO_LOGIN_WINDOW before sign-in answers 429"),
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

static bool
same_char(char x, char y)
{
	return toupper((unsigned char)x) == toupper((unsigned char)y);
}

/* Edit distance with adjacent transpositions (WROKERS is one typo from
 * WORKERS), ignoring case. Names past 63 bytes are too far anyway. */
static size_t
distance(const char *a, size_t n, const char *b, size_t m)
{
	size_t d[64][64], i, j;

	if (n > 63 || m > 63)
		return (size_t)-1;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			size_t v = d[i - 1][j - 1] + !same_char(a[i - 1], b[j - 1]);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && same_char(a[i - 1], b[j - 2]) &&
			    same_char(a[i - 2], b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

/* The setting an unknown TODO_* name most likely meant, or NULL when none
 * is close. Compared without the TODO_ prefix, so TODO_DATABASE_URL finds
 * DATABASE_URL; "close" grows with the name (a third of it, at most 3). */
static const char *
closest_setting(const char *name, size_t len)
{
	const char *best = NULL;
	size_t i, bestd = (size_t)-1, limit;

	if (len > 5 && strncmp(name, "TODO_", 5) == 0) {
		name += 5;
		len -= 5;
	}
	limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
	for (i = 0; i < NSETTINGS; i++) {
		const char *s = settings[i].name;
		size_t d;

		if (strncmp(s, "TODO_", 5) == 0)
			s += 5;
		d = distance(name, len, s, strlen(s));
		if (d < bestd) {
			bestd = d;
			best = settings[i].name;
		}
	}
	return bestd <= limit ? best : NULL;
}

/* " (did you mean TODO_WORKERS?)" or "". */
static void
suggestion(const char *name, size_t len, char *buf, size_t buflen)
{
	const char *s = closest_setting(name, len);

	if (s != NULL)
		snprintf(buf, buflen, " (did you mean %s?)", s);
	else
		snprintf(buf, buflen, "%s", "");
}

/* The environment cannot be an error: a TODO_* variable may be meant for
 * another version, or another program (test harnesses). But a typo must
 * not go unseen: one warning each for names close to a setting, one line
 * for the rest. */
static void
warn_unknown_environment(void)
{
	extern char **environ;
	char **e, hint[96], others[640] = "";
	size_t olen = 0, nothers = 0;

	for (e = environ; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		size_t len = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
		int n;

		if (strncmp(*e, "TODO_", 5) != 0 || find_setting(*e, len) != NULL)
			continue;
		suggestion(*e, len, hint, sizeof(hint));
		if (hint[0] != '\0') {
			log_warn("environment: unknown setting %.*s%s, ignored",
			    (int)len, *e, hint);
			continue;
		}
		if (nothers++ > 0 && olen + 4 >= sizeof(others))
			continue;       /* " ..." is in already */
		/* Leave room for " ..." after the last name that fits. */
		n = snprintf(others + olen, sizeof(others) - 4 - olen, "%s%.*s",
		    olen > 0 ? " " : "", (int)len, *e);
		if (n < 0 || (size_t)n >= sizeof(others) - 4 - olen) {
			others[olen] = '\0';
			strcpy(others + olen, " ...");
			olen = sizeof(others) - 1;
		} else
			olen += (size_t)n;
	}
	if (nothers > 0)
		log_warn("environment: %zu unknown TODO_* variable%s, ignored (not "
		    "settings, none close to one; todo-fcgi --help lists them): %s",
		    nothers, nothers == 1 ? "" : "s", others);
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
	char line[4096], hint[96];
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
				suggestion(p, strlen(p), hint, sizeof(hint));
				snprintf(err, errlen, "%s:%d: unknown setting %s%s",
				    path, lineno, p, hint);
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

static bool
host_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/* An origin as a browser sends it in Origin: scheme://host[:port], lower
 * case, without the scheme's default port and with nothing after it. The
 * app compares Origin headers with it byte for byte, so a value that
 * cannot match one is refused now rather than turning every form post
 * into a 403. A trailing slash (copied from the address bar) is dropped. */
static enum td_status
apply_origin(struct config *c, const struct setting *s, const char *val,
    const char *from, char *err, size_t errlen)
{
	char *dst = (char *)c + s->off, out[512], host[300], what[96] = "";
	const char *sep, *auth, *end, *hend, *p;
	bool https, upper = false, ipv6;
	long port = 0;
	size_t hlen, i;
	int n;

#define REFUSE(...) do { \
		n = snprintf(err, errlen, "%s%s: \"%s\" ", s->name, from, val); \
		if (n >= 0 && (size_t)n < errlen) \
			snprintf(err + n, errlen - (size_t)n, __VA_ARGS__); \
		return TD_EINVAL; \
	} while (0)

	if (*val == '\0') {
		*dst = '\0';
		return TD_OK;
	}
	if ((sep = strstr(val, "://")) == NULL)
		REFUSE("has no scheme: write it as https://host[:port]");
	if (sep - val == 5 && strncasecmp(val, "https", 5) == 0)
		https = true;
	else if (sep - val == 4 && strncasecmp(val, "http", 4) == 0)
		https = false;
	else
		REFUSE("is not an http:// or https:// origin");
	for (p = val; p < sep; p++)
		upper |= *p >= 'A' && *p <= 'Z';
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		REFUSE("has user information (user@): an origin is scheme://host[:port] only");
	if (*end == '/' && end[1] == '\0')
		snprintf(what, sizeof(what), "trailing slash removed");
	else if (*end == '/')
		REFUSE("has a path (%s): an origin is scheme://host[:port] with nothing after it", end);
	else if (*end == '?')
		REFUSE("has a query (%s): an origin is scheme://host[:port] with nothing after it", end);
	else if (*end == '#')
		REFUSE("has a fragment (%s): an origin is scheme://host[:port] with nothing after it", end);

	/* The host: a name or IPv4 address, or an IPv6 one in brackets. */
	ipv6 = *auth == '[';
	if (ipv6) {
		if ((hend = memchr(auth, ']', (size_t)(end - auth))) == NULL)
			REFUSE("has an IPv6 address without its closing ]");
		hend++;
	} else
		for (hend = auth; hend < end && *hend != ':'; hend++)
			;
	hlen = (size_t)(hend - auth);
	if (hlen == 0 || (ipv6 && hlen == 2))
		REFUSE("has no host");
	if (hlen >= sizeof(host))
		REFUSE("has a host name longer than %zu bytes", sizeof(host) - 1);
	for (i = 0; i < hlen; i++) {
		unsigned char ch = (unsigned char)auth[i];

		if (ch >= 0x80)
			REFUSE("has a host that is not ASCII: write it in its punycode (xn--) form, as browsers send it");
		if (ipv6 ? !(isxdigit(ch) || ch == ':' || ch == '.' ||
		    i == 0 || i == hlen - 1) : !host_char(ch))
			REFUSE("has a character a host cannot have ('%c')", ch);
		upper |= ch >= 'A' && ch <= 'Z';
		host[i] = (char)tolower(ch);
	}
	host[hlen] = '\0';

	if (hend < end) {
		if (*hend != ':')
			REFUSE("has something after the host that is not a port");
		for (p = hend + 1; p < end; p++) {
			if (*p < '0' || *p > '9' || port > 65535)
				break;
			port = port * 10 + (*p - '0');
		}
		if (p == hend + 1 || p < end || port < 1 || port > 65535)
			REFUSE("has a bad port (%.*s): a number from 1 to 65535",
			    (int)(end - hend - 1), hend + 1);
	}
	if (port == (https ? 443 : 80)) {
		port = 0;
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s",
		    what[0] ? ", " : "", https ? "default port :443 removed" :
		    "default port :80 removed");
	}
	if (upper)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s",
		    what[0] ? ", " : "", "lower-cased");
	n = snprintf(out, sizeof(out), "%s://%s", https ? "https" : "http", host);
	if (port != 0)
		n = snprintf(out, sizeof(out), "%s://%s:%ld", https ? "https" : "http",
		    host, port);
	if (n < 0 || (size_t)n >= s->size)
		REFUSE("is longer than %zu bytes", s->size - 1);
	/* What is left: leading zeros of a port. */
	if (what[0] == '\0' && strcmp(out, val) != 0)
		snprintf(what, sizeof(what), "port rewritten");
	if (what[0] != '\0')
		log_warn("%s%s: \"%s\" normalised to \"%s\" (%s): that is how browsers write it in Origin",
		    s->name, from, val, out, what);
	memcpy(dst, out, (size_t)n + 1);
	return TD_OK;
#undef REFUSE
}

static enum td_status
apply(struct config *c, const struct setting *s, const char *val,
    const char *from, char *err, size_t errlen)
{
	char *end;
	size_t i;
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
	case K_BOOL:
		errno = 0;
		v = strtol(val, &end, s->kind == K_MODE ? 8 : 10);
		if (*val == '\0' || *end != '\0' || errno != 0 ||
		    v < s->min || v > s->max || (s->kind == K_BOOL && val[1] != '\0')) {
			snprintf(err, errlen, s->kind == K_MODE ?
			    "%s%s: \"%s\" is not an octal mode" : s->kind == K_BOOL ?
			    "%s%s: \"%s\" is not 0 or 1" :
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
	case K_ENV:
		for (i = 0; i < NENVS; i++)
			if (strcmp(val, env_names[i]) == 0) {
				*(enum config_env *)(void *)((char *)c + s->off) =
				    (enum config_env)i;
				return TD_OK;
			}
		snprintf(err, errlen, "%s%s: \"%s\" is not one of development, staging, production",
		    s->name, from, val);
		return TD_EINVAL;
	case K_ORIGIN:
		return apply_origin(c, s, val, from, err, errlen);
	}
	return TD_EINVAL;
}

/* A setting's value: the environment, else the env file's last line for
 * it, else the profile's default. */
static const char *
value_of(const struct setting *s, const struct file_var *vars, size_t nvars,
    enum config_env env, const char **from)
{
	const char *val = getenv(s->name);
	size_t j;

	*from = " (environment)";
	if (val != NULL)
		return val;
	val = s->def[env];
	*from = " (default)";
	for (j = 0; j < nvars; j++)
		if (strcmp(vars[j].name, s->name) == 0) {
			val = vars[j].value;
			*from = " (env file)";
		}
	return val;
}

/* The address an entry of a (comma-separated) host list goes to is on
 * this machine: libpq's default socket (empty), a socket directory, an
 * abstract socket, or loopback. */
static bool
local_address(const char *a, size_t n)
{
	return n == 0 || a[0] == '/' || a[0] == '@' ||
	    (n == 9 && strncasecmp(a, "localhost", 9) == 0) ||
	    (n == 10 && strncasecmp(a, "localhost.", 10) == 0) ||
	    (n >= 4 && strncmp(a, "127.", 4) == 0) ||
	    (n == 3 && memcmp(a, "::1", 3) == 0);
}

/* Every host DATABASE_URL lists is on this machine (hostaddr wins over
 * host, as in libpq). */
static bool
all_local(const char *host, const char *hostaddr)
{
	const char *h = host != NULL ? host : "", *a = hostaddr != NULL ? hostaddr : "";

	for (;;) {
		size_t hn = strcspn(h, ","), an = strcspn(a, ",");

		if (an > 0 ? !local_address(a, an) : !local_address(h, hn))
			return false;
		if (h[hn] == '\0' && a[an] == '\0')
			return true;
		h += h[hn] != '\0' ? hn + 1 : hn;
		a += a[an] != '\0' ? an + 1 : an;
	}
}

/* Staging and production talk to the database over TLS with its
 * certificate and host name verified, as Neon needs; a database on this
 * machine only when the operator says so (script/server --env ...). The
 * value is never shown: it may hold a password. */
static enum td_status
check_database(const struct config *c, const PQconninfoOption *opts,
    char *err, size_t errlen)
{
	const char *env = env_names[c->env], *host = NULL, *hostaddr = NULL,
	    *sslmode = NULL;
	const PQconninfoOption *o;

	if (c->database_url[0] == '\0') {
		snprintf(err, errlen, "DATABASE_URL is not set: %s needs it, with "
		    "sslmode=verify-full (for Neon: postgresql://USER:PASSWORD@HOST/DB"
		    "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
		    "&channel_binding=require)", env);
		return TD_EINVAL;
	}
	for (o = opts; o != NULL && o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "sslmode") == 0)
			sslmode = o->val;
	}
	if (all_local(host, hostaddr)) {
		if (c->allow_local_database)
			return TD_OK;   /* TLS over loopback protects nothing */
		snprintf(err, errlen, "DATABASE_URL points at a database on this machine "
		    "(a unix socket or localhost): %s refuses it unless "
		    "TODO_ALLOW_LOCAL_DATABASE=1 (meant for running the %s profile on one machine)",
		    env, env);
		return TD_EINVAL;
	}
	if (sslmode == NULL || strcmp(sslmode, "verify-full") != 0) {
		char has[96];

		if (sslmode == NULL)
			snprintf(has, sizeof(has), "sets no sslmode (libpq's "
			    "default, prefer, checks nothing; PGSSLMODE does not count)");
		else
			snprintf(has, sizeof(has), "uses sslmode=%.32s", sslmode);
		snprintf(err, errlen, "DATABASE_URL %s: %s needs sslmode=verify-full "
		    "(TLS, the server's certificate and host name checked): add "
		    "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt "
		    "to the URI (sslmode=verify-full sslrootcert=... in a key=value string)",
		    has, env);
		return TD_EINVAL;
	}
	return TD_OK;
}

/* The profile's rules, once every setting has its value. */
static enum td_status
check_profile(struct config *c, const char *const *from, char *err,
    size_t errlen)
{
	const struct profile *p = &profiles[c->env];
	const char *env = env_names[c->env];

	c->cookie_secure = p->cookie_secure;
	snprintf(c->hsts, sizeof(c->hsts), "%s", p->hsts);
	if (!p->strict)
		return TD_OK;
	if (c->public_origin[0] == '\0') {
		snprintf(err, errlen, "TODO_PUBLIC_ORIGIN is not set: %s needs the "
		    "https:// origin users reach the app at, e.g. "
		    "TODO_PUBLIC_ORIGIN=https://todo.example.com", env);
		return TD_EINVAL;
	}
	if (strncmp(c->public_origin, "https://", 8) != 0) {
		snprintf(err, errlen, "TODO_PUBLIC_ORIGIN%s: \"%s\" is not an https:// "
		    "origin: %s is served over TLS only; set TODO_PUBLIC_ORIGIN=https://%s",
		    from[0], c->public_origin, env, c->public_origin + strlen("http://"));
		return TD_EINVAL;
	}
	if (p->no_debug_log && strcmp(c->log_level, "debug") == 0) {
		snprintf(err, errlen, "TODO_LOG_LEVEL%s: debug is refused in %s, "
		    "which logs at info: set info, warn or error (debug belongs to "
		    "development and staging)", from[1], env);
		return TD_EINVAL;
	}
	return TD_OK;
}

enum td_status
config_load(struct config *c, const char *env_file, char *err, size_t errlen)
{
	struct file_var vars[MAX_FILE_VARS];
	size_t nvars = 0, i, j;
	enum td_status rc = TD_OK;
	const char *val, *from, *rule_from[2] = { "", "" };

	memset(c, 0, sizeof(*c));
	if (env_file != NULL &&
	    (rc = read_env_file(env_file, vars, &nvars, err, errlen)) != TD_OK)
		goto out;
	/* Before anything can fail: a typo may be why it does. */
	warn_unknown_environment();
	/* TODO_ENV first: it picks the other settings' defaults. */
	val = value_of(&settings[0], vars, nvars, ENV_DEVELOPMENT, &from);
	rc = apply(c, &settings[0], val, from, err, errlen);
	for (i = 1; i < NSETTINGS && rc == TD_OK; i++) {
		const struct setting *s = &settings[i];

		val = value_of(s, vars, nvars, c->env, &from);
		rc = apply(c, s, val, from, err, errlen);
		if (s->off == offsetof(struct config, public_origin))
			rule_from[0] = from;
		else if (s->off == offsetof(struct config, log_level))
			rule_from[1] = from;
	}
	/* The pool's size: TODO_WORKERS_MIN (or TODO_WORKERS) kept, up to
	 * TODO_WORKERS_MAX by demand; from here on workers is the least and
	 * workers_max the most (equal: a fixed pool). */
	if (rc == TD_OK) {
		if (c->workers_min != 0)
			c->workers = c->workers_min;
		if (c->workers_max == 0)
			c->workers_max = c->workers;
		if (c->workers_max < c->workers) {
			snprintf(err, errlen, "TODO_WORKERS_MAX (%d) must not be below "
			    "the workers always kept (%d: %s)", c->workers_max,
			    c->workers, c->workers_min != 0 ? "TODO_WORKERS_MIN" :
			    "TODO_WORKERS");
			rc = TD_EINVAL;
		}
	}
	/* The watchdog must not fire before a request's database call had
	 * its chance to be cancelled and answered with a 503. */
	if (rc == TD_OK && c->request_timeout != 0 &&
	    c->db_timeout >= c->request_timeout) {
		snprintf(err, errlen, "TODO_DB_TIMEOUT (%d s) must be below TODO_REQUEST_TIMEOUT (%d s)",
		    c->db_timeout, c->request_timeout);
		rc = TD_EINVAL;
	}
	/* A session's last-seen time must be written before it can look
	 * idle, and no session outlives its absolute lifetime. */
	if (rc == TD_OK && c->session_touch >= c->session_idle) {
		snprintf(err, errlen, "TODO_SESSION_TOUCH (%d s) must be below TODO_SESSION_IDLE (%d s)",
		    c->session_touch, c->session_idle);
		rc = TD_EINVAL;
	}
	if (rc == TD_OK && c->session_idle > c->session_max) {
		snprintf(err, errlen, "TODO_SESSION_IDLE (%d s) must not be above TODO_SESSION_MAX (%d s)",
		    c->session_idle, c->session_max);
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
		} else {
			if (profiles[c->env].strict)
				rc = check_database(c, opts, err, errlen);
			PQconninfoFree(opts);
		}
	} else if (rc == TD_OK && profiles[c->env].strict)
		rc = check_database(c, NULL, err, errlen);
	if (rc == TD_OK)
		rc = check_profile(c, rule_from, err, errlen);
out:
	for (j = 0; j < nvars; j++) {
		free(vars[j].name);
		free(vars[j].value);
	}
	return rc;
}

const char *
config_env_name(enum config_env env)
{
	return (unsigned)env < NENVS ? env_names[env] : "?";
}

const char *
config_setting_name(size_t i)
{
	return i < NSETTINGS ? settings[i].name : NULL;
}

void
config_print_help(void)
{
	size_t i, e;
	int width = 0;

	for (i = 0; i < NSETTINGS; i++)
		if ((int)strlen(settings[i].name) > width)
			width = (int)strlen(settings[i].name);
	printf("Settings (environment variables, or NAME=VALUE lines in --env-file):\n");
	for (i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];

		printf("  %-*s %s (default: \"%s\"", width, s->name, s->help,
		    s->def[0]);
		for (e = 1; e < NENVS; e++)
			if (strcmp(s->def[e], s->def[0]) != 0)
				printf("; %s: \"%s\"", env_names[e], s->def[e]);
		printf(")\n");
	}
	printf("\nTODO_ENV=staging or production refuse to start without an "
	    "https:// TODO_PUBLIC_ORIGIN\nand a DATABASE_URL with "
	    "sslmode=verify-full; production also sets Secure cookies and\n"
	    "HSTS, and refuses TODO_LOG_LEVEL=debug.\n");
}
