/* check.c - todoctl check: see check.h. Every item is measured on the
 * connection the app's settings give, then judged; the report is printed
 * once at the end, as aligned lines or as one JSON object. */
#include "check.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "utf8.h"

#define MAX_ITEMS	16
#define RTT_SAMPLES	5
#define MIN_SERVER	150000	/* what the app is built and tested on */
#define SLOW_RTT_MS	20.0	/* more suggests another region */
#define MAX_HOSTS	10000

#define TIMEOUT_FIX	"run `todoctl migrate up`, which sets them with " \
			"ALTER ROLE ... IN DATABASE ... SET"

enum mark { MARK_OK, MARK_NOTE, MARK_PROBLEM };

struct item {
	enum mark	 mark;
	const char	*name;
	char		 text[512];
};

enum { T_STATEMENT, T_LOCK, T_IDLE_TX, NTIMEOUTS };
static const char *const timeout_name[NTIMEOUTS] = {
	"statement_timeout", "lock_timeout",
	"idle_in_transaction_session_timeout",
};

/* The measured values (for --json) and the judged items. -1 or "" is
 * unknown: a query that failed is itself a PROBLEM item. */
struct report {
	struct item	 items[MAX_ITEMS];
	int		 nitems, problems, notes;

	char		 host[256], port[32], dbname[128], user[128];
	char		 version[128];
	int		 version_num;
	bool		 ssl;
	char		 protocol[32], cipher[128];
	char		 sslmode[32], channel_binding[32];
	const char	*verified;	/* "full", "ca" or "no" */
	int		 key_pid, server_pid;
	bool		 pooler_host, pooler;
	double		 rtt_ms;
	const char	*sql_dir;
	bool		 schema_known;
	int		 files;
	struct migrate_counts mc;
	long long	 max_conn, su_reserved, reserved;
	int		 workers, hosts, db_timeout;
	long long	 timeout_ms[NTIMEOUTS];
	int		 expected_ms[NTIMEOUTS];
	char		 settings_err[256];	/* why sql_settings failed */
};

static void	item(struct report *, enum mark, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

static void
item(struct report *r, enum mark mark, const char *name, const char *fmt, ...)
{
	struct item *it;
	va_list ap;

	if (r->nitems == MAX_ITEMS)
		return;		/* a fixed set of items: cannot happen */
	it = &r->items[r->nitems++];
	it->mark = mark;
	it->name = name;
	va_start(ap, fmt);
	vsnprintf(it->text, sizeof(it->text), fmt, ap);
	va_end(ap);
	r->problems += mark == MARK_PROBLEM;
	r->notes += mark == MARK_NOTE;
}

/* libpq's messages end in newlines and may span lines: one line. */
static const char *
oneline(const char *msg, char *buf, size_t size)
{
	size_t i;

	snprintf(buf, size, "%s", msg != NULL ? msg : "");
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
			buf[i] = ' ';
	while (i > 0 && buf[i - 1] == ' ')
		buf[--i] = '\0';
	return buf;
}

/* Strict decimal, optionally negative; false for NULL or junk. */
static bool
to_ll(const char *s, long long *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return false;
	*out = strtoll(s, &end, 10);
	return *end == '\0';
}

static double
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ---- measuring and judging --------------------------------------------- */

static void
check_target(struct report *r, PGconn *c)
{
	PQconninfoOption *opts, *o;

	snprintf(r->host, sizeof(r->host), "%s", PQhost(c) ? PQhost(c) : "");
	snprintf(r->port, sizeof(r->port), "%s", PQport(c) ? PQport(c) : "");
	snprintf(r->dbname, sizeof(r->dbname), "%s", PQdb(c) ? PQdb(c) : "");
	snprintf(r->user, sizeof(r->user), "%s", PQuser(c) ? PQuser(c) : "");
	/* The effective values, libpq's defaults included. */
	if ((opts = PQconninfo(c)) == NULL)
		return;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "sslmode") == 0)
			snprintf(r->sslmode, sizeof(r->sslmode), "%s", o->val);
		else if (strcmp(o->keyword, "channel_binding") == 0)
			snprintf(r->channel_binding,
			    sizeof(r->channel_binding), "%s", o->val);
	}
	PQconninfoFree(opts);
}

static void
check_server(struct report *r, PGconn *c)
{
	const char *v = PQparameterStatus(c, "server_version");

	snprintf(r->version, sizeof(r->version), "%s", v != NULL ? v : "");
	r->version_num = PQserverVersion(c);
	if (r->version_num >= MIN_SERVER)
		item(r, MARK_OK, "server", "PostgreSQL %s", r->version);
	else
		item(r, MARK_PROBLEM, "server", "PostgreSQL %s: the app is "
		    "built and tested against 15 or later", r->version);
}

static void
check_tls(struct report *r, PGconn *c)
{
	const char *p, *ci;

	r->ssl = PQsslInUse(c) == 1;
	if (r->ssl) {
		p = PQsslAttribute(c, "protocol");
		ci = PQsslAttribute(c, "cipher");
		snprintf(r->protocol, sizeof(r->protocol), "%s", p ? p : "");
		snprintf(r->cipher, sizeof(r->cipher), "%s", ci ? ci : "");
		item(r, MARK_OK, "tls", "%s, %s", r->protocol, r->cipher);
	} else
		item(r, MARK_PROBLEM, "tls", "not in use (sslmode=%s): the "
		    "password and the data cross the network in clear; "
		    "set sslmode=verify-full", r->sslmode);

	/* libpq checks the certificate only in the verify modes; "require"
	 * encrypts to whoever answers. */
	if (r->ssl && strcmp(r->sslmode, "verify-full") == 0) {
		r->verified = "full";
		item(r, MARK_OK, "certificate", "verified: CA and host name "
		    "(sslmode=verify-full)");
	} else if (r->ssl && strcmp(r->sslmode, "verify-ca") == 0) {
		r->verified = "ca";
		item(r, MARK_NOTE, "certificate", "CA verified, host name not "
		    "(sslmode=verify-ca): any certificate of that CA passes; "
		    "use verify-full");
	} else {
		r->verified = "no";
		item(r, MARK_PROBLEM, "certificate", "NOT verified (%s"
		    "sslmode=%s): use sslmode=verify-full with sslrootcert",
		    r->ssl ? "" : "no TLS, ", r->sslmode);
	}
}

static void
check_channel_binding(struct report *r)
{
	/* The connection succeeded, so a required binding was used. */
	if (strcmp(r->channel_binding, "require") == 0)
		item(r, MARK_OK, "channel binding", "used "
		    "(channel_binding=require)");
	else
		item(r, MARK_NOTE, "channel binding", "not required "
		    "(channel_binding=%s): Neon's proxy supports require; a "
		    "self-hosted PgBouncer cannot (no SCRAM-PLUS)",
		    r->channel_binding[0] != '\0' ? r->channel_binding :
		    "unsupported by this libpq");
}

/* max_connections, the reserved slots, the timeouts and the backend's pid,
 * in one round trip. pg_settings gives the timeouts in their unit (ms),
 * whatever form they were set in. */
static const char *const sql_settings =
    "SELECT pg_catalog.pg_backend_pid(),"
    " pg_catalog.current_setting('max_connections'),"
    " pg_catalog.current_setting('superuser_reserved_connections'),"
    " coalesce(pg_catalog.current_setting('reserved_connections', true),"
    "  '0'),"	/* PostgreSQL 16+ */
    " (SELECT setting FROM pg_catalog.pg_settings"
    "  WHERE name = 'statement_timeout' AND unit = 'ms'),"
    " (SELECT setting FROM pg_catalog.pg_settings"
    "  WHERE name = 'lock_timeout' AND unit = 'ms'),"
    " (SELECT setting FROM pg_catalog.pg_settings"
    "  WHERE name = 'idle_in_transaction_session_timeout' AND unit = 'ms')";

static void
read_settings(struct report *r, PGconn *c)
{
	struct db_server_timeouts want;
	PGresult *res;
	long long pid;
	int i;

	r->server_pid = -1;
	r->max_conn = r->su_reserved = r->reserved = -1;
	for (i = 0; i < NTIMEOUTS; i++)
		r->timeout_ms[i] = -1;
	db_server_timeouts(r->db_timeout, &want);
	r->expected_ms[T_STATEMENT] = want.statement_ms;
	r->expected_ms[T_LOCK] = want.lock_ms;
	r->expected_ms[T_IDLE_TX] = want.idle_in_transaction_ms;
	r->key_pid = PQbackendPID(c);

	res = PQexec(c, sql_settings);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		oneline(PQresultErrorMessage(res), r->settings_err,
		    sizeof(r->settings_err));
		PQclear(res);
		return;
	}
	snprintf(r->settings_err, sizeof(r->settings_err), "bad value");
	if (to_ll(PQgetvalue(res, 0, 0), &pid))
		r->server_pid = (int)pid;
	if (!to_ll(PQgetvalue(res, 0, 1), &r->max_conn) ||
	    !to_ll(PQgetvalue(res, 0, 2), &r->su_reserved) ||
	    !to_ll(PQgetvalue(res, 0, 3), &r->reserved))
		r->max_conn = -1;
	for (i = 0; i < NTIMEOUTS; i++)
		if (!to_ll(PQgetvalue(res, 0, 4 + i), &r->timeout_ms[i]))
			r->timeout_ms[i] = -1;
	PQclear(res);
}

/* PgBouncer answers the startup with its own cancel key, so the pid libpq
 * got is not the backend's. Neon names its pooled endpoint. */
static void
check_pooler(struct report *r)
{
	r->pooler_host = strstr(r->host, "-pooler") != NULL;
	r->pooler = r->pooler_host ||
	    (r->server_pid >= 0 && r->server_pid != r->key_pid);
	if (r->server_pid < 0)
		item(r, MARK_PROBLEM, "connection", "cannot read "
		    "pg_backend_pid(): %s", r->settings_err);
	else if (!r->pooler)
		item(r, MARK_OK, "connection", "direct (backend pid %d)",
		    r->server_pid);
	else if (r->server_pid != r->key_pid)
		item(r, MARK_NOTE, "connection", "pooler (cancel key pid %d, "
		    "backend pid %d%s): fine for todo-fcgi; run todoctl migrate "
		    "over the direct host", r->key_pid, r->server_pid,
		    r->pooler_host ? ", host name has -pooler" : "");
	else
		item(r, MARK_NOTE, "connection", "pooler (host name has "
		    "-pooler): fine for todo-fcgi; run todoctl migrate over "
		    "the direct host");
}

static void
check_connections(struct report *r)
{
	long long usable = r->max_conn - r->su_reserved - r->reserved;
	int needed = r->workers * r->hosts;
	const char *s = r->hosts == 1 ? "" : "s";

	if (r->max_conn < 0)
		item(r, MARK_PROBLEM, "connections", "cannot read "
		    "max_connections: %s", r->settings_err);
	else if (r->pooler)
		item(r, MARK_NOTE, "connections", "%d (%d workers x %d host%s) "
		    "to a pooler: its pool size limits them, not "
		    "max_connections (%lld)", needed, r->workers, r->hosts, s,
		    r->max_conn);
	else if (needed > usable)
		item(r, MARK_PROBLEM, "connections", "%d needed (%d workers x "
		    "%d host%s), %lld usable (max_connections %lld - %lld "
		    "reserved): lower TODO_WORKERS (TODO_WORKERS_MAX when set) or "
		    "go through a pooler",
		    needed, r->workers, r->hosts, s, usable, r->max_conn,
		    r->su_reserved + r->reserved);
	else
		/* A reload runs the old workers until they drain. */
		item(r, 2LL * needed > usable ? MARK_NOTE : MARK_OK,
		    "connections", "%d needed (%d workers x %d host%s), %lld "
		    "usable (max_connections %lld - %lld reserved)%s", needed,
		    r->workers, r->hosts, s, usable, r->max_conn,
		    r->su_reserved + r->reserved, 2LL * needed > usable ?
		    "; a reload (SIGHUP) briefly needs twice as many" : "");
}

static void
check_timeouts(struct report *r)
{
	int i;

	for (i = 0; i < NTIMEOUTS; i++) {
		if (r->timeout_ms[i] < 0)
			item(r, MARK_PROBLEM, timeout_name[i], "cannot read: %s",
			    r->settings_err);
		else if (r->timeout_ms[i] == 0)
			item(r, MARK_PROBLEM, timeout_name[i], "0 (unbounded), "
			    "expected %d ms for TODO_DB_TIMEOUT=%d: " TIMEOUT_FIX,
			    r->expected_ms[i], r->db_timeout);
		else if (r->timeout_ms[i] != r->expected_ms[i])
			item(r, MARK_PROBLEM, timeout_name[i], "%lld ms, expected "
			    "%d ms for TODO_DB_TIMEOUT=%d: " TIMEOUT_FIX,
			    r->timeout_ms[i], r->expected_ms[i], r->db_timeout);
		else
			item(r, MARK_OK, timeout_name[i], "%lld ms",
			    r->timeout_ms[i]);
	}
}

/* Every page view costs one round trip: this is its floor. */
static void
check_rtt(struct report *r, PGconn *c)
{
	struct timespec t0, t1;
	double ms[RTT_SAMPLES];
	PGresult *res;
	char err[256];
	int i;

	r->rtt_ms = -1;
	for (i = 0; i < RTT_SAMPLES; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		res = PQexec(c, "SELECT 1");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			item(r, MARK_PROBLEM, "round trip", "SELECT 1 failed: %s",
			    oneline(PQresultErrorMessage(res), err,
			    sizeof(err)));
			PQclear(res);
			return;
		}
		PQclear(res);
		ms[i] = ms_between(&t0, &t1);
	}
	qsort(ms, RTT_SAMPLES, sizeof(ms[0]), by_value);
	r->rtt_ms = ms[RTT_SAMPLES / 2];
	if (r->rtt_ms > SLOW_RTT_MS)
		item(r, MARK_NOTE, "round trip", "%.2f ms (median of %d "
		    "SELECT 1): every page waits at least this; is the app in "
		    "the database's region?", r->rtt_ms, RTT_SAMPLES);
	else
		item(r, MARK_OK, "round trip", "%.2f ms (median of %d "
		    "SELECT 1)", r->rtt_ms, RTT_SAMPLES);
}

static void
check_schema(struct report *r, PGconn *c)
{
	struct migrations *m = NULL;
	const struct migrate_counts *n = &r->mc;

	if (migrate_load(r->sql_dir, &m) != TD_OK) {
		item(r, MARK_PROBLEM, "schema", "cannot read the migrations "
		    "in %s (see the log above)", r->sql_dir);
		return;
	}
	r->files = migrate_latest(m);
	if (migrate_count(c, m, &r->mc) != TD_OK)
		item(r, MARK_PROBLEM, "schema", "cannot read schema_migrations "
		    "(see the log above)");
	else if (n->changed > 0 || n->missing > 0)
		item(r, MARK_PROBLEM, "schema", "%d applied, %d pending, %d "
		    "changed, %d missing (files in %s): see `todoctl migrate "
		    "status`", n->applied, n->pending, n->changed, n->missing,
		    r->sql_dir);
	else if (n->pending > 0)
		item(r, MARK_PROBLEM, "schema", "%d of %d migrations applied, "
		    "%d pending: run `todoctl migrate up`", n->applied,
		    r->files, n->pending);
	else
		item(r, MARK_OK, "schema", "%d of %d migrations applied",
		    n->applied, r->files);
	r->schema_known = true;
	migrate_free(m);
}

/* ---- output ------------------------------------------------------------ */

static const char *
mark_name(enum mark m)
{
	return m == MARK_OK ? "ok" : m == MARK_NOTE ? "note" : "PROBLEM";
}

static void
print_human(const struct report *r, FILE *f)
{
	int i, w = 0, len;

	fprintf(f, "todoctl check: host=%s port=%s dbname=%s user=%s\n",
	    r->host, r->port, r->dbname, r->user);
	for (i = 0; i < r->nitems; i++)
		if ((len = (int)strlen(r->items[i].name)) > w)
			w = len;
	for (i = 0; i < r->nitems; i++)
		fprintf(f, "%-7s  %-*s  %s\n", mark_name(r->items[i].mark), w,
		    r->items[i].name, r->items[i].text);
	if (r->problems == 0)
		fprintf(f, "no problems");
	else
		fprintf(f, "%d problem%s", r->problems,
		    r->problems == 1 ? "" : "s");
	if (r->notes > 0)
		fprintf(f, ", %d note%s", r->notes, r->notes == 1 ? "" : "s");
	fputc('\n', f);
}

/* A JSON string; invalid UTF-8 bytes become '?' so that the output stays
 * valid JSON whatever a server or a URL holds. */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;
	bool valid;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	valid = utf8_valid(s, strlen(s));
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p >= 0x80 && !valid)
			fputc('?', f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* A string key, or null for an unknown (empty) value. */
static void
json_kv(FILE *f, const char *key, const char *val, const char *after)
{
	fprintf(f, "\"%s\": ", key);
	json_str(f, val != NULL && val[0] != '\0' ? val : NULL);
	fputs(after, f);
}

static void
json_num(FILE *f, const char *key, long long v, const char *after)
{
	if (v < 0)
		fprintf(f, "\"%s\": null%s", key, after);
	else
		fprintf(f, "\"%s\": %lld%s", key, v, after);
}

static void
json_list(FILE *f, const struct report *r, enum mark mark)
{
	char line[600];
	int i, k = 0;

	fputc('[', f);
	for (i = 0; i < r->nitems; i++) {
		if (r->items[i].mark != mark)
			continue;
		snprintf(line, sizeof(line), "%s: %s", r->items[i].name,
		    r->items[i].text);
		fputs(k++ > 0 ? ", " : "", f);
		json_str(f, line);
	}
	fputc(']', f);
}

static void
print_json(const struct report *r, FILE *f)
{
	long long usable = -1;
	int i;

	if (r->max_conn >= 0 && r->su_reserved >= 0 && r->reserved >= 0)
		usable = r->max_conn - r->su_reserved - r->reserved;
	fputs("{\"target\": {", f);
	json_kv(f, "host", r->host, ", ");
	json_kv(f, "port", r->port, ", ");
	json_kv(f, "dbname", r->dbname, ", ");
	json_kv(f, "user", r->user, "},\n");

	json_kv(f, "server_version", r->version, ", ");
	json_num(f, "server_version_num", r->version_num, ",\n");

	fprintf(f, "\"tls\": {\"in_use\": %s, ", r->ssl ? "true" : "false");
	json_kv(f, "protocol", r->protocol, ", ");
	json_kv(f, "cipher", r->cipher, ", ");
	json_kv(f, "sslmode", r->sslmode, ", ");
	json_kv(f, "verified", r->verified, "},\n");

	fputs("\"channel_binding\": {", f);
	json_kv(f, "setting", r->channel_binding, ", ");
	fprintf(f, "\"required\": %s},\n",
	    strcmp(r->channel_binding, "require") == 0 ? "true" : "false");

	json_kv(f, "connection", r->server_pid < 0 ? NULL :
	    r->pooler ? "pooler" : "direct", ", ");
	json_num(f, "cancel_key_pid", r->key_pid, ", ");
	json_num(f, "backend_pid", r->server_pid, ", ");
	fprintf(f, "\"pooler_host_name\": %s,\n",
	    r->pooler_host ? "true" : "false");

	if (r->rtt_ms < 0)
		fputs("\"round_trip_ms\": null,\n", f);
	else
		fprintf(f, "\"round_trip_ms\": %.2f,\n", r->rtt_ms);

	fputs("\"schema\": ", f);
	if (!r->schema_known)
		fputs("null,\n", f);
	else {
		fputc('{', f);
		json_kv(f, "sql_dir", r->sql_dir, ", ");
		json_num(f, "files", r->files, ", ");
		json_num(f, "applied", r->mc.applied, ", ");
		json_num(f, "pending", r->mc.pending, ", ");
		json_num(f, "changed", r->mc.changed, ", ");
		json_num(f, "missing", r->mc.missing, "},\n");
	}

	fputs("\"connections\": {", f);
	json_num(f, "max_connections", r->max_conn, ", ");
	json_num(f, "superuser_reserved_connections", r->su_reserved, ", ");
	json_num(f, "reserved_connections", r->reserved, ", ");
	json_num(f, "usable", usable, ", ");
	json_num(f, "workers", r->workers, ", ");
	json_num(f, "hosts", r->hosts, ", ");
	json_num(f, "needed", (long long)r->workers * r->hosts, "},\n");

	fputs("\"timeouts\": {", f);
	json_num(f, "db_timeout_s", r->db_timeout, ", ");
	for (i = 0; i < NTIMEOUTS; i++) {
		fprintf(f, "\"%s\": {", timeout_name[i]);
		json_num(f, "ms", r->timeout_ms[i], ", ");
		json_num(f, "expected_ms", r->expected_ms[i],
		    i + 1 < NTIMEOUTS ? "}, " : "}},\n");
	}

	fputs("\"notes\": ", f);
	json_list(f, r, MARK_NOTE);
	fputs(",\n\"problems\": ", f);
	json_list(f, r, MARK_PROBLEM);
	fputs("}\n", f);
}

/* ---- command ----------------------------------------------------------- */

static int
parse_opts(int argc, char **argv, int *hosts, bool *json)
{
	static const struct option longopts[] = {
		{ "hosts", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int ch;

	*hosts = 1;
	*json = false;
	optind = 0;	/* glibc: start over for the subcommand */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    !to_ll(optarg, &v) || v < 1 || v > MAX_HOSTS) {
				fprintf(stderr, "todoctl: --hosts takes a number "
				    "from 1 to %d\n", MAX_HOSTS);
				return 2;
			}
			*hosts = (int)v;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			fputs("usage: todoctl check [options]\n" CHECK_USAGE,
			    stdout);
			return -1;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "todoctl: check takes no arguments\n");
		return 2;
	}
	return 0;
}

int
check_main(const struct config *cfg, const char *sql_dir, int argc,
    char **argv)
{
	struct report *r;
	PGconn *c;
	bool json;
	int k, hosts, code = 1;

	if ((k = parse_opts(argc, argv, &hosts, &json)) != 0)
		return k < 0 ? 0 : 2;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_error("out of memory");
		return 1;
	}
	r->sql_dir = sql_dir;
	r->workers = cfg->workers_max;   /* the most a host opens */
	r->hosts = hosts;
	r->db_timeout = cfg->db_timeout;
	/* The same connection defaults as todoctl migrate; a failure is
	 * logged with host, port, database and user, never the password. */
	if ((c = db_connect_admin(cfg->database_url, "todoctl", NULL)) ==
	    NULL) {
		log_error("todoctl check: cannot connect, nothing checked");
		goto out;
	}
	check_target(r, c);
	check_server(r, c);
	check_tls(r, c);
	check_channel_binding(r);
	read_settings(r, c);
	check_pooler(r);
	check_rtt(r, c);
	check_schema(r, c);
	check_connections(r);
	check_timeouts(r);
	PQfinish(c);

	if (json)
		print_json(r, stdout);
	else
		print_human(r, stdout);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_error("cannot write the report");
		goto out;
	}
	code = r->problems > 0 ? CHECK_EXIT_PROBLEMS : 0;
out:
	free(r);
	return code;
}
