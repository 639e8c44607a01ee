/* import.c - todoctl import-sqlite: SQLite rows into todos (see import.h). */
#include "import.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "convert.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "owners.h"
#include "sqlite_source.h"
#include "users.h"

/* "todosqli" in ASCII: two imports never interleave. */
#define IMPORT_LOCK_KEY		"8390035060575318377"
#define IMPORT_SCHEMA		4	/* sql/004_accounts.sql: owners */
#define COPY_CHUNK		(256 * 1024)
/* One row's worst case: every title/description byte escaped, twice. */
#define ROW_MAX			(2 * (4 * CONV_TITLE_MAX + \
				    4 * CONV_DESCRIPTION_MAX) + 256)
#define SHOW_MAX		1024
#define LIST_MAX		20	/* conflicts named on stdout */

struct opts {
	const char	*file;
	const char	*table;
	const char	*tz_name;
	const char	*reject_path;
	const char	*summary_json;
	const char	*owner;		/* --owner EMAIL */
	const char	*user_map;	/* --user-map FILE.csv */
	const char	*ignore[SRC_MAX_COLS];
	int		 nignore;
	bool		 no_backup;
	bool		 dry_run;
};

struct stats {
	int64_t		 read, imported, updated, unchanged, rejected;
	int64_t		 conflicts, deleted_in_app, gone_from_source;
	int64_t		 unowned;	/* the source's todos with no owner */
	double		 secs;
};

struct rejects {
	const char	*src;
	char		 path[4200];
	FILE		*f;
};

static const char sql_stage[] =
    "CREATE TEMP TABLE sqlite_stage (id bigint NOT NULL, "
    "title text NOT NULL, description text, completed boolean NOT NULL, "
    "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, "
    "user_id bigint) ON COMMIT DROP";

/* The owner is part of what is imported: an owned row's digest also
 * covers its user_id. An unowned row's is sql/002's digest as it was, so
 * the bookkeeping of imports made before accounts stays valid. */
#define DIGEST0(t) "sqlite_import_digest(" t ".title, " t ".description, " \
    t ".completed, " t ".created_at, " t ".updated_at)"
#define DIGEST(t) "(CASE WHEN " t ".user_id IS NULL THEN " DIGEST0(t) \
    " ELSE sha256(" DIGEST0(t) " || int8send(" t ".user_id)) END)"

/* Every source row gets one action: see docs/migrating-from-sqlite.md. */
static const char sql_plan[] =
    "CREATE TEMP TABLE sqlite_plan ON COMMIT DROP AS "
    "SELECT s.id, d.digest, CASE "
    " WHEN i.todo_id IS NULL AND t.id IS NULL THEN 'insert' "
    " WHEN i.todo_id IS NULL AND " DIGEST("t") " = d.digest THEN 'adopt' "
    " WHEN i.todo_id IS NULL THEN 'clash' "
    " WHEN i.digest = d.digest AND t.id IS NULL THEN 'deleted_in_app' "
    " WHEN i.digest = d.digest THEN 'unchanged' "
    " WHEN t.id IS NULL THEN 'conflict_deleted' "
    " WHEN " DIGEST("t") " = d.digest THEN 'same' "
    " WHEN " DIGEST("t") " = i.digest THEN 'update' "
    " ELSE 'conflict_edited' END AS action "
    "FROM sqlite_stage s "
    "CROSS JOIN LATERAL (SELECT " DIGEST("s") " AS digest) d "
    "LEFT JOIN sqlite_imported i ON i.todo_id = s.id "
    "LEFT JOIN todos t ON t.id = s.id";

static const char sql_insert[] =
    "INSERT INTO todos (id, title, description, completed, created_at, "
    "updated_at, user_id) SELECT s.id, s.title, s.description, "
    "s.completed, s.created_at, s.updated_at, s.user_id "
    "FROM sqlite_stage s JOIN sqlite_plan p "
    "USING (id) WHERE p.action = 'insert' ORDER BY s.id";

static const char sql_update[] =
    "UPDATE todos t SET title = s.title, description = s.description, "
    "completed = s.completed, created_at = s.created_at, "
    "updated_at = s.updated_at, user_id = s.user_id "
    "FROM sqlite_stage s JOIN sqlite_plan p "
    "USING (id) WHERE t.id = s.id AND p.action = 'update'";

/* todos_touch() replaces an updated_at equal to the old one with now():
 * a second, explicit UPDATE puts the source's value back. */
static const char sql_update_fix[] =
    "UPDATE todos t SET updated_at = s.updated_at FROM sqlite_stage s "
    "JOIN sqlite_plan p USING (id) WHERE t.id = s.id AND "
    "p.action = 'update' AND t.updated_at IS DISTINCT FROM s.updated_at";

static const char sql_book[] =
    "INSERT INTO sqlite_imported (todo_id, digest) SELECT id, digest "
    "FROM sqlite_plan WHERE action IN ('insert', 'update', 'same', 'adopt') "
    "ON CONFLICT (todo_id) DO UPDATE SET digest = excluded.digest, "
    "imported_at = now()";

static const char sql_book_fast[] =
    "INSERT INTO sqlite_imported (todo_id, digest) "
    "SELECT t.id, " DIGEST("t") " FROM todos t";

/* This source's todos that belong to nobody after the merge. */
static const char sql_unowned[] =
    "SELECT count(*) FROM sqlite_plan p JOIN todos t USING (id) "
    "WHERE p.action IN ('insert', 'update', 'same', 'adopt', 'unchanged') "
    "AND t.user_id IS NULL";

static const char sql_gone[] =
    "SELECT count(*) FROM sqlite_imported i WHERE NOT EXISTS "
    "(SELECT 1 FROM sqlite_stage s WHERE s.id = i.todo_id)";

static const char sql_setval[] =
    "SELECT setval(q.seq, greatest(q.m, "
    "coalesce(pg_sequence_last_value(q.seq), 0))) FROM "
    "(SELECT pg_get_serial_sequence('todos', 'id')::regclass AS seq, "
    "(SELECT max(id) FROM todos) AS m) q WHERE q.m >= 1";

static const char *const conflict_why[][2] = {
	{ "clash", "conflict: the id exists in PostgreSQL but was never "
	    "imported (created in the app?); left alone" },
	{ "conflict_edited", "conflict: changed in SQLite and edited in the "
	    "app since the last import; left alone" },
	{ "conflict_deleted", "conflict: changed in SQLite but deleted in "
	    "the app since the last import; not re-added" },
	{ "deleted_in_app", "note: deleted in the app since the last import; "
	    "not re-added" },
};

/* ---- shared helpers ------------------------------------------------- */

enum td_status
import_exec(PGconn *c, const char *what, const char *sql, ExecStatusType want,
    PGresult **out)
{
	PGresult *res;

	if (out != NULL)
		*out = NULL;
	if ((res = PQexec(c, sql)) == NULL) {
		log_error("%s: %s", what, PQerrorMessage(c));
		return TD_EDB;
	}
	if (PQresultStatus(res) != want) {
		log_error("%s: %s", what, PQresultErrorMessage(res));
		PQclear(res);
		return TD_EDB;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return TD_OK;
}

enum td_status
import_tz_option(const char *name, struct conv_tz *tz)
{
	if (conv_tz_parse(name, tz) == TD_OK)
		return TD_OK;
	fprintf(stderr, "todoctl: --source-timezone %s: not UTC, an offset "
	    "like +01:00 or a known zone name\n", name);
	return TD_EINVAL;
}

enum td_status
import_check_source(struct src *s, const char *file)
{
	char msg[512];

	if (src_integrity(s, msg, sizeof(msg)) == TD_OK)
		return TD_OK;
	log_error("%s: integrity check failed: %s", file, msg);
	return TD_ECONFLICT;
}

PGconn *
import_connect(const char *database_url, const char *appname)
{
	PGconn *c;
	int version = 0;

	if ((c = db_connect_admin(database_url, appname, "this works (no "
	    "session state is used), but the direct host is better for bulk "
	    "loads")) == NULL)
		return NULL;
	if (migrate_current_version(c, &version) != TD_OK)
		goto fail;
	if (version < IMPORT_SCHEMA) {
		log_error("the database schema is at version %d, the import "
		    "needs %d: run 'todoctl migrate up' first", version,
		    IMPORT_SCHEMA);
		goto fail;
	}
	return c;
fail:
	PQfinish(c);
	return NULL;
}

static double
ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void
progress_start(struct progress *p, const char *label, int64_t total)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO) == 1;
	p->label = label;
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

double
progress_elapsed(const struct progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff(&p->start, &now);
}

void
progress_update(struct progress *p, int64_t done)
{
	struct timespec now;
	double secs, rate, frac;
	char bar[31];
	int i, fill;

	if (!p->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts_diff(&p->last, &now) < 0.1)
		return;
	p->last = now;
	secs = ts_diff(&p->start, &now);
	rate = secs > 0 ? (double)done / secs : 0;
	frac = p->total > 0 ? (double)done / (double)p->total : 0;
	if (frac > 1)
		frac = 1;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld rows  %.0f rows/s  ETA "
	    "%.0fs \033[K", p->label, bar, (int)(frac * 100), (long long)done,
	    (long long)p->total, rate, rate > 0 && p->total > done ?
	    (double)(p->total - done) / rate : 0.0);
}

void
progress_end(struct progress *p)
{
	if (p->tty)
		fputs("\r\033[K", stderr);
}

/* ---- reject file ---------------------------------------------------- */

static enum td_status
rejects_open(struct rejects *r)
{
	char stamp[32];
	struct tm tm;
	time_t now;
	int n;

	if (r->f != NULL)
		return TD_OK;
	if (r->path[0] == '\0') {
		now = time(NULL);
		if (gmtime_r(&now, &tm) == NULL || strftime(stamp,
		    sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
			return TD_ESYSTEM;
		n = snprintf(r->path, sizeof(r->path), "%s.rejects-%s.tsv",
		    r->src, stamp);
		if (n < 0 || (size_t)n >= sizeof(r->path))
			return TD_ETOOBIG;
	}
	if ((r->f = fopen(r->path, "we")) == NULL) {
		log_error("cannot create reject file %s: %s", r->path,
		    strerror(errno));
		return TD_ESYSTEM;
	}
	fprintf(r->f, "source_id\tcolumn\treason\tvalue\n");
	return TD_OK;
}

static enum td_status
rejects_close(struct rejects *r)
{
	enum td_status rc = TD_OK;

	if (r->f == NULL)
		return TD_OK;
	if (ferror(r->f) || fclose(r->f) != 0) {
		log_error("writing reject file %s failed", r->path);
		rc = TD_ESYSTEM;
	}
	r->f = NULL;
	return rc;
}

/* ---- options -------------------------------------------------------- */

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-backup", no_argument, NULL, 'B' },
		{ "table", required_argument, NULL, 't' },
		{ "source-timezone", required_argument, NULL, 'z' },
		{ "ignore-column", required_argument, NULL, 'i' },
		{ "reject-file", required_argument, NULL, 'r' },
		{ "summary-json", required_argument, NULL, 'j' },
		{ "owner", required_argument, NULL, 'o' },
		{ "user-map", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->tz_name = "UTC";
	optind = 0;	/* glibc: start over for the subcommand */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->dry_run = true;
			break;
		case 'B':
			o->no_backup = true;
			break;
		case 't':
			o->table = optarg;
			break;
		case 'z':
			o->tz_name = optarg;
			break;
		case 'i':
			if (o->nignore == SRC_MAX_COLS)
				return 2;
			o->ignore[o->nignore++] = optarg;
			break;
		case 'r':
			o->reject_path = optarg;
			break;
		case 'j':
			o->summary_json = optarg;
			break;
		case 'o':
			o->owner = optarg;
			break;
		case 'u':
			o->user_map = optarg;
			break;
		case 'h':
			fputs("usage: todoctl import-sqlite FILE.db [options]\n"
			    IMPORT_USAGE, stdout);
			return -1;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "todoctl: import-sqlite takes one FILE.db\n");
		return 2;
	}
	o->file = argv[optind];
	return 0;
}

/* Unknown columns must be named with --ignore-column; ignoring a column
 * that is not there is a typo, refused too. */
static enum td_status
check_columns(const struct src_info *info, const struct opts *o)
{
	enum td_status rc = TD_OK;
	int c, k;
	bool found;

	for (c = 0; c < info->ncols; c++) {
		if (info->known[c])
			continue;
		for (found = false, k = 0; k < o->nignore; k++)
			found |= strcasecmp(o->ignore[k], info->cols[c]) == 0;
		if (found) {
			printf("  column %s: ignored (--ignore-column), its "
			    "values are NOT imported\n", info->cols[c]);
			continue;
		}
		if (c == info->user_col)
			continue;	/* import_user_column() */
		log_error("column %s has no place in todos: refusing to drop "
		    "it silently (--ignore-column %s accepts the loss)",
		    info->cols[c], info->cols[c]);
		rc = TD_EINVAL;
	}
	for (k = 0; k < o->nignore; k++) {
		for (found = false, c = 0; c < info->ncols; c++)
			found |= !info->known[c] &&
			    strcasecmp(o->ignore[k], info->cols[c]) == 0;
		if (!found) {
			log_error("--ignore-column %s: no such extra column in "
			    "%s", o->ignore[k], info->table);
			rc = TD_EINVAL;
		}
	}
	return rc;
}

bool
import_ignored(const char *const *ignore, int nignore, const char *col)
{
	int k;

	for (k = 0; k < nignore; k++)
		if (strcasecmp(ignore[k], col) == 0)
			return true;
	return false;
}

enum td_status
import_user_column(const struct src_info *info, bool has_map, bool ignored,
    bool *use)
{
	*use = false;
	if (info->user_col < 0) {
		if (!has_map)
			return TD_OK;
		log_error("--user-map: table %s has no user_id column, so "
		    "there is nothing to map (--owner EMAIL gives every row "
		    "one owner)", info->table);
		return TD_EINVAL;
	}
	if (has_map && ignored) {
		log_error("--user-map and --ignore-column %s: use one of them",
		    info->cols[info->user_col]);
		return TD_EINVAL;
	}
	if (ignored)
		return TD_OK;
	if (!has_map) {
		/* One person's list must not end up in another's. */
		log_error("table %s has a %s column: the todos belong to "
		    "different people. Map them to accounts with --user-map "
		    "FILE.csv (lines source_user_id,email; rows with a NULL "
		    "user_id get --owner, if given). To put every row in one "
		    "account anyway: --ignore-column %s --owner EMAIL",
		    info->table, info->cols[info->user_col],
		    info->cols[info->user_col]);
		return TD_EINVAL;
	}
	*use = true;
	return TD_OK;
}

static void
report_source(const struct src_info *info, const struct conv_tz *tz)
{
	int c;

	printf("  table: %s, %lld rows\n  columns:", info->table,
	    (long long)info->rows);
	for (c = 0; c < info->ncols; c++)
		printf("%s %s%s", c > 0 ? "," : "", info->cols[c],
		    info->known[c] ? "" : " (no place in todos)");
	printf("\n  alembic revision: %s\n", info->alembic[0] != '\0' ?
	    info->alembic : "(none)");
	printf("  timestamps without an offset are read as %s%s\n", tz->name,
	    tz->kind == TZ_UTC ? " (default; --source-timezone changes it)" :
	    "");
	fflush(stdout);
}

void
import_report_owners(const struct owners *ow, const char *map_path,
    bool use)
{
	const char *owner = owners_default(ow);

	if (use)
		printf("  owners: by user_id, from %s; rows without a user_id: "
		    "%s\n", map_path, owner != NULL ? owner :
		    "no owner");
	else if (owner != NULL)
		printf("  owner: %s\n", owner);
	else
		printf("  owner: none (--owner EMAIL gives one): the todos "
		    "are shown to nobody until assigned\n");
}

/* ---- the COPY stream ------------------------------------------------ */

struct copy {
	PGconn		*c;
	char		*buf;
	size_t		 len;
};

static enum td_status
copy_flush(struct copy *cp)
{
	if (cp->len == 0)
		return TD_OK;
	if (PQputCopyData(cp->c, cp->buf, (int)cp->len) != 1) {
		log_error("COPY: %s", PQerrorMessage(cp->c));
		return TD_EDB;
	}
	cp->len = 0;
	return TD_OK;
}

static void
copy_row(struct copy *cp, const struct conv_row *r, int64_t owner)
{
	char *p = cp->buf + cp->len;

	p += sprintf(p, "%lld\t", (long long)r->id);
	p += conv_copy_escape(p, r->title, r->title_len);
	*p++ = '\t';
	if (r->desc == NULL) {
		memcpy(p, "\\N", 2);
		p += 2;
	} else
		p += conv_copy_escape(p, r->desc, r->desc_len);
	*p++ = '\t';
	*p++ = r->completed ? 't' : 'f';
	*p++ = '\t';
	conv_format_ts(r->created_us, false, p);
	p += strlen(p);
	*p++ = '\t';
	conv_format_ts(r->updated_us, false, p);
	p += strlen(p);
	if (owner > 0)
		p += sprintf(p, "\t%lld", (long long)owner);
	else {
		memcpy(p, "\t\\N", 3);
		p += 3;
	}
	*p++ = '\n';
	cp->len = (size_t)(p - cp->buf);
}

static enum td_status
reject_value(struct rejects *rj, const struct conv_value *idv,
    const char *col, const struct conv_value *value, const char *why)
{
	char id[SHOW_MAX], val[SHOW_MAX];
	enum td_status rc;

	if ((rc = rejects_open(rj)) != TD_OK)
		return rc;
	conv_show(idv, id, sizeof(id));
	conv_show(value, val, sizeof(val));
	fprintf(rj->f, "%s\t%s\t%s\t%s\n", id, col, why, val);
	return TD_OK;
}

static enum td_status
reject_row(struct rejects *rj, const struct conv_value v[CONV_NCOLS],
    enum conv_col col, const char *why)
{
	return reject_value(rj, &v[COL_ID], conv_col_names[col], &v[col], why);
}

/* Test hook: stop (SIGSTOP) after this many rows, COPY data sent, so a
 * test can kill the import mid-transaction deterministically. */
static int64_t
pause_after(void)
{
	const char *s = getenv("TODO_IMPORT_TEST_PAUSE_AFTER");

	return s != NULL && *s != '\0' ? strtoll(s, NULL, 10) : 0;
}

static enum td_status
stream_rows(PGconn *c, struct src *s, const struct src_info *info,
    const struct conv_tz *tz, const struct owners *ow, bool use_user,
    struct rejects *rj, struct stats *st, const char *copy_sql)
{
	struct conv_value v[CONV_NCOLS], user;
	struct conv_row r;
	const char *email;
	int64_t owner;
	struct progress pr;
	struct copy cp = { .c = c };
	enum td_status rc = TD_EDB;
	enum conv_col bad;
	const char *why;
	PGresult *res = NULL;
	int64_t prev = 0, pause_n = pause_after();
	bool done, ok, have_prev = false;

	progress_start(&pr, "importing", info->rows);
	if ((cp.buf = malloc(COPY_CHUNK + ROW_MAX)) == NULL)
		return TD_ENOMEM;
	if (import_exec(c, "starting COPY", copy_sql, PGRES_COPY_IN, NULL) !=
	    TD_OK)
		goto out;
	if ((rc = src_rows_begin(s, info)) != TD_OK)
		goto abort;
	for (;;) {
		if ((rc = src_next(s, v, &done)) != TD_OK)
			goto abort;
		if (done)
			break;
		st->read++;
		ok = conv_row(v, tz, &r, &bad, &why) == TD_OK;
		if (ok && have_prev && r.id == prev) {
			/* Only a table without a rowid id can have these. */
			ok = false;
			bad = COL_ID;
			why = "duplicate id";
		}
		if (!ok) {
			st->rejected++;
			if ((rc = reject_row(rj, v, bad, why)) != TD_OK)
				goto abort;
			continue;
		}
		if (use_user && (rc = src_user(s, &user)) != TD_OK)
			goto abort;
		if (owners_of(ow, use_user ? &user : NULL, &owner, &email,
		    &why) != TD_OK) {
			st->rejected++;
			if ((rc = reject_value(rj, &v[COL_ID], "user_id", &user,
			    why)) != TD_OK)
				goto abort;
			continue;
		}
		prev = r.id;
		have_prev = true;
		copy_row(&cp, &r, owner);
		if (cp.len >= COPY_CHUNK && (rc = copy_flush(&cp)) != TD_OK)
			goto abort;
		if ((st->read & 1023) == 0)
			progress_update(&pr, st->read);
		if (pause_n > 0 && st->read == pause_n) {
			if ((rc = copy_flush(&cp)) != TD_OK || PQflush(c) != 0)
				goto abort;
			raise(SIGSTOP);
		}
	}
	progress_end(&pr);
	if ((rc = copy_flush(&cp)) != TD_OK)
		goto abort;
	if (PQputCopyEnd(c, NULL) != 1) {
		log_error("COPY end: %s", PQerrorMessage(c));
		rc = TD_EDB;
		goto out;
	}
	rc = TD_OK;
	goto result;
abort:
	progress_end(&pr);
	(void)PQputCopyEnd(c, "import aborted");
result:
	/* Drain every result so the connection is usable (or closed). */
	while ((res = PQgetResult(c)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == TD_OK) {
			log_error("COPY failed: %s", PQresultErrorMessage(res));
			rc = TD_EDB;
		} else if (rc == TD_OK)
			st->imported = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
out:
	free(cp.buf);
	return rc;
}

/* ---- merge ---------------------------------------------------------- */

static int64_t
count_of(PGresult *res, const char *action)
{
	int i;

	for (i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), action) == 0)
			return strtoll(PQgetvalue(res, i, 1), NULL, 10);
	return 0;
}

static enum td_status
list_conflicts(PGconn *c, struct rejects *rj)
{
	enum td_status rc = TD_OK;
	PGresult *res;
	const char *why;
	size_t k;
	int shown = 0;

	if (PQsendQuery(c, "SELECT id, action FROM sqlite_plan WHERE action "
	    "IN ('clash', 'conflict_edited', 'conflict_deleted', "
	    "'deleted_in_app') ORDER BY id") != 1 ||
	    PQsetSingleRowMode(c) != 1) {
		log_error("listing conflicts: %s", PQerrorMessage(c));
		return TD_EDB;
	}
	while ((res = PQgetResult(c)) != NULL) {
		if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && rc == TD_OK) {
			why = PQgetvalue(res, 0, 1);
			for (k = 0; k < sizeof(conflict_why) /
			    sizeof(conflict_why[0]); k++)
				if (strcmp(why, conflict_why[k][0]) == 0)
					why = conflict_why[k][1];
			if ((rc = rejects_open(rj)) == TD_OK)
				fprintf(rj->f, "%s\t-\t%s\t-\n",
				    PQgetvalue(res, 0, 0), why);
			if (shown++ < LIST_MAX)
				printf("  id %s: %s\n", PQgetvalue(res, 0, 0),
				    why);
		} else if (PQresultStatus(res) != PGRES_TUPLES_OK &&
		    PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
			log_error("listing conflicts: %s",
			    PQresultErrorMessage(res));
			rc = TD_EDB;
		}
		PQclear(res);
	}
	if (shown > LIST_MAX)
		printf("  ... %d more in %s\n", shown - LIST_MAX, rj->path);
	return rc;
}

static enum td_status
merge(PGconn *c, struct rejects *rj, struct stats *st)
{
	enum td_status rc;
	PGresult *res = NULL;

	if ((rc = import_exec(c, "analyzing the staged rows",
	    "ANALYZE sqlite_stage", PGRES_COMMAND_OK, NULL)) != TD_OK ||
	    (rc = import_exec(c, "planning the merge", sql_plan,
	    PGRES_COMMAND_OK, NULL)) != TD_OK ||
	    (rc = import_exec(c, "inserting new rows", sql_insert,
	    PGRES_COMMAND_OK, NULL)) != TD_OK ||
	    (rc = import_exec(c, "updating changed rows", sql_update,
	    PGRES_COMMAND_OK, NULL)) != TD_OK ||
	    (rc = import_exec(c, "restoring updated_at", sql_update_fix,
	    PGRES_COMMAND_OK, NULL)) != TD_OK ||
	    (rc = import_exec(c, "recording the import", sql_book,
	    PGRES_COMMAND_OK, NULL)) != TD_OK)
		return rc;
	if ((rc = import_exec(c, "counting", "SELECT action, count(*) FROM "
	    "sqlite_plan GROUP BY action", PGRES_TUPLES_OK, &res)) != TD_OK)
		return rc;
	st->imported = count_of(res, "insert");
	st->updated = count_of(res, "update");
	st->unchanged = count_of(res, "unchanged") + count_of(res, "same") +
	    count_of(res, "adopt");
	st->conflicts = count_of(res, "clash") +
	    count_of(res, "conflict_edited") + count_of(res, "conflict_deleted");
	st->deleted_in_app = count_of(res, "deleted_in_app");
	PQclear(res);
	if ((rc = import_exec(c, "counting rows gone from the source",
	    sql_gone, PGRES_TUPLES_OK, &res)) != TD_OK)
		return rc;
	st->gone_from_source = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if ((rc = import_exec(c, "counting todos without an owner",
	    sql_unowned, PGRES_TUPLES_OK, &res)) != TD_OK)
		return rc;
	st->unowned = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (st->conflicts + st->deleted_in_app > 0)
		rc = list_conflicts(c, rj);
	return rc;
}

/* ---- report --------------------------------------------------------- */

static void
json_str(FILE *f, const char *s)
{
	if (s == NULL || *s == '\0') {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static enum td_status
write_json(const char *path, const struct src_info *info,
    const struct stats *st, const struct opts *o, const char *owner,
    const char *backup, const char *rejects, int code)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL) {
		log_error("cannot write %s: %s", path, strerror(errno));
		return TD_ESYSTEM;
	}
	fputs("{\"table\":", f);
	json_str(f, info->table);
	fprintf(f, ",\"read\":%lld,\"imported\":%lld,\"updated\":%lld,"
	    "\"unchanged\":%lld,\"rejected\":%lld,\"conflicts\":%lld,"
	    "\"deleted_in_app\":%lld,\"gone_from_source\":%lld,"
	    "\"unowned\":%lld,"
	    "\"seconds\":%.3f,\"dry_run\":%s,\"source_timezone\":",
	    (long long)st->read, (long long)st->imported,
	    (long long)st->updated, (long long)st->unchanged,
	    (long long)st->rejected, (long long)st->conflicts,
	    (long long)st->deleted_in_app, (long long)st->gone_from_source,
	    (long long)st->unowned, st->secs, o->dry_run ? "true" : "false");
	json_str(f, o->tz_name);
	fputs(",\"owner\":", f);
	json_str(f, owner);
	fputs(",\"user_map\":", f);
	json_str(f, o->user_map);
	fputs(",\"alembic_revision\":", f);
	json_str(f, info->alembic);
	fputs(",\"backup\":", f);
	json_str(f, backup);
	fputs(",\"reject_file\":", f);
	json_str(f, rejects);
	fprintf(f, ",\"exit\":%d}\n", code);
	if (ferror(f) || fclose(f) != 0) {
		log_error("writing %s failed", path);
		return TD_ESYSTEM;
	}
	return TD_OK;
}

static void
print_summary(const struct src_info *info, const struct stats *st)
{
	printf("\n%-12s %10s %10s %10s %10s %10s %10s %9s\n", "table", "read",
	    "imported", "updated", "unchanged", "rejected", "conflicts",
	    "time");
	printf("%-12s %10lld %10lld %10lld %10lld %10lld %10lld %8.2fs\n",
	    info->table, (long long)st->read, (long long)st->imported,
	    (long long)st->updated, (long long)st->unchanged,
	    (long long)st->rejected, (long long)st->conflicts, st->secs);
	if (st->deleted_in_app > 0)
		printf("%lld rows were deleted in the app since the last "
		    "import: not re-added\n", (long long)st->deleted_in_app);
	if (st->gone_from_source > 0)
		printf("%lld rows imported earlier are no longer in the "
		    "source (or are rejected now): left alone\n",
		    (long long)st->gone_from_source);
	if (st->unowned > 0)
		printf("%lld todos imported without an owner: assign them "
		    "with todoctl assign-unowned EMAIL\n",
		    (long long)st->unowned);
}

/* ---- the command ---------------------------------------------------- */

int
import_sqlite_main(const char *database_url, int argc, char **argv)
{
	struct opts o;
	struct conv_tz tz;
	struct src *s = NULL;
	struct src_info info;
	struct stats st;
	struct rejects rj;
	struct progress clock;
	struct owners *ow = NULL;
	char backup[4200] = "";
	PGconn *c = NULL;
	PGresult *res = NULL;
	enum td_status rc;
	bool fast, use_user = false;
	int code = 1, k;

	memset(&st, 0, sizeof(st));
	memset(&rj, 0, sizeof(rj));
	memset(&info, 0, sizeof(info));
	if ((k = parse_opts(argc, argv, &o)) != 0)
		return k < 0 ? 0 : 2;
	if (import_tz_option(o.tz_name, &tz) != TD_OK)
		return 2;
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	if ((rc = owners_load(o.owner, o.user_map, &ow)) != TD_OK)
		return rc == TD_ENOTFOUND ? USERS_EXIT_NO_ACCOUNT : 1;
	rj.src = o.file;
	if (o.reject_path != NULL)
		snprintf(rj.path, sizeof(rj.path), "%s", o.reject_path);
	progress_start(&clock, "", 0);

	if (o.dry_run)
		printf("DRY RUN: everything is done in a transaction that is "
		    "rolled back; no backup is written\n");
	if (src_open(o.file, &s) != TD_OK)
		goto out;
	printf("source: %s (read-only, one snapshot)\n", o.file);
	if (!o.no_backup && !o.dry_run) {
		if (src_backup(s, o.file, backup, sizeof(backup)) != TD_OK)
			goto out;
		printf("  backup: %s\n", backup);
	}
	if (import_check_source(s, o.file) != TD_OK)
		goto out;
	printf("  integrity check: ok\n");
	if (src_discover(s, o.table, &info) != TD_OK)
		goto out;
	report_source(&info, &tz);
	if (check_columns(&info, &o) != TD_OK ||
	    import_user_column(&info, o.user_map != NULL, info.user_col >= 0 &&
	    import_ignored(o.ignore, o.nignore, info.cols[info.user_col]),
	    &use_user) != TD_OK)
		goto out;
	import_report_owners(ow, o.user_map, use_user);

	if ((c = import_connect(database_url, "todoctl-import")) == NULL)
		goto out;
	if (import_exec(c, "BEGIN", "BEGIN", PGRES_COMMAND_OK, NULL) != TD_OK ||
	    /* The role's short timeouts are for the app's statements: a
	     * million-row COPY takes seconds. */
	    import_exec(c, "lifting the timeouts", DB_NO_TIMEOUTS_SQL,
	    PGRES_TUPLES_OK, NULL) != TD_OK ||
	    import_exec(c, "taking the import lock",
	    "SELECT pg_advisory_xact_lock(" IMPORT_LOCK_KEY ")",
	    PGRES_TUPLES_OK, NULL) != TD_OK ||
	    /* The app may read, not write, until we commit: the merge's view
	     * of todos must not go stale under it. */
	    import_exec(c, "locking todos",
	    "LOCK TABLE todos IN SHARE ROW EXCLUSIVE MODE", PGRES_COMMAND_OK,
	    NULL) != TD_OK ||
	    import_exec(c, "checking for a first import",
	    "SELECT NOT EXISTS (SELECT 1 FROM todos) AND "
	    "NOT EXISTS (SELECT 1 FROM sqlite_imported)", PGRES_TUPLES_OK,
	    &res) != TD_OK)
		goto out;
	fast = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	res = NULL;
	/* Held (FOR KEY SHARE) until the commit: no owner goes away. */
	if ((rc = owners_resolve(ow, c, true)) != TD_OK) {
		if (rc == TD_ENOTFOUND)
			code = USERS_EXIT_NO_ACCOUNT;
		goto out;
	}
	if (fast) {
		/* Nothing to merge with: straight into todos. */
		if (stream_rows(c, s, &info, &tz, ow, use_user, &rj, &st,
		    "COPY todos (id, title, description, completed, "
		    "created_at, updated_at, user_id) FROM STDIN") != TD_OK ||
		    import_exec(c, "recording the import", sql_book_fast,
		    PGRES_COMMAND_OK, NULL) != TD_OK ||
		    import_exec(c, "counting todos without an owner",
		    "SELECT count(*) FROM todos WHERE user_id IS NULL",
		    PGRES_TUPLES_OK, &res) != TD_OK)
			goto out;
		st.unowned = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		res = NULL;
	} else {
		if (import_exec(c, "creating the staging table", sql_stage,
		    PGRES_COMMAND_OK, NULL) != TD_OK ||
		    stream_rows(c, s, &info, &tz, ow, use_user, &rj, &st,
		    "COPY sqlite_stage FROM STDIN") != TD_OK ||
		    merge(c, &rj, &st) != TD_OK)
			goto out;
	}
	if (import_exec(c, "moving the id generator past the largest id",
	    sql_setval, PGRES_TUPLES_OK, NULL) != TD_OK)
		goto out;
	if (rejects_close(&rj) != TD_OK)
		goto out;
	if (o.dry_run) {
		if (import_exec(c, "ROLLBACK", "ROLLBACK", PGRES_COMMAND_OK,
		    NULL) != TD_OK)
			goto out;
	} else {
		if (import_exec(c, "COMMIT", "COMMIT", PGRES_COMMAND_OK,
		    &res) != TD_OK)
			goto out;
		if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			log_error("COMMIT was turned into %s",
			    PQcmdStatus(res));
			goto out;
		}
	}
	st.secs = progress_elapsed(&clock);
	print_summary(&info, &st);
	if (rj.path[0] != '\0' && (st.rejected > 0 || st.conflicts > 0 ||
	    st.deleted_in_app > 0))
		printf("rejected rows and conflicts are listed in %s\n",
		    rj.path);
	else
		rj.path[0] = '\0';
	code = st.conflicts > 0 ? IMPORT_EXIT_CONFLICT :
	    st.rejected > 0 ? IMPORT_EXIT_REJECTED : 0;
	if (o.dry_run)
		printf("DRY RUN: rolled back, nothing was written to the "
		    "database\n");
out:
	if (code == 1 || code == USERS_EXIT_NO_ACCOUNT)
		log_error("import failed: the database is unchanged");
	(void)rejects_close(&rj);
	if (o.summary_json != NULL && write_json(o.summary_json, &info, &st,
	    &o, owners_default(ow), backup, rj.path, code) != TD_OK &&
	    code != 1)
		code = 1;
	PQclear(res);
	PQfinish(c);
	src_close(s);
	owners_free(ow);
	fflush(stdout);
	return code;
}
