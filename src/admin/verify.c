/* verify.c - todoctl verify-sqlite: source vs PostgreSQL, row by row. */
#include "verify.h"

#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "convert.h"
#include "db.h"
#include "import.h"
#include "log.h"
#include "owners.h"
#include "sqlite_source.h"
#include "users.h"

#define SHOW_MAX	1024

struct vopts {
	const char	*file;
	const char	*table;
	const char	*tz_name;
	const char	*owner;		/* --owner EMAIL */
	const char	*user_map;	/* --user-map FILE.csv */
	const char	*ignore[SRC_MAX_COLS];
	int		 nignore;
	long		 max_report;
};

struct vstats {
	int64_t		 src_rows, pg_rows, same, missing, extra, different;
	int64_t		 rejected;
	bool		 seq_ok;
	long		 reported;
};

/* Timestamps as exact integer microseconds: no TimeZone or DateStyle in
 * the way, and extract() is numeric (exact) since PostgreSQL 14. The
 * owner as its address: what --owner and --user-map name. */
static const char sql_rows[] =
    "COPY (SELECT t.id, t.title, t.description, t.completed, "
    "(extract(epoch FROM t.created_at) * 1000000)::bigint, "
    "(extract(epoch FROM t.updated_at) * 1000000)::bigint, u.email "
    "FROM todos t LEFT JOIN users u ON u.id = t.user_id "
    "ORDER BY t.id) TO STDOUT";

static const char sql_seq[] =
    "SELECT (SELECT max(id) FROM todos), pg_sequence_last_value("
    "pg_get_serial_sequence('todos', 'id')::regclass)";

/* One side's current row. */
struct side {
	bool		 have;		/* a row is loaded */
	bool		 rejected;	/* source only: breaks the rules */
	struct conv_row	 r;
	const char	*owner;		/* address, NULL: nobody */
	enum conv_col	 bad;
	const char	*why;
	char		*line;		/* PostgreSQL: libpq's buffer */
};

/* What decides a source row's expected owner. */
struct owner_rule {
	const struct owners *ow;
	bool		 use_user;	/* from the user_id column */
};

static int
parse_vopts(int argc, char **argv, struct vopts *o)
{
	static const struct option longopts[] = {
		{ "table", required_argument, NULL, 't' },
		{ "source-timezone", required_argument, NULL, 'z' },
		{ "ignore-column", required_argument, NULL, 'i' },
		{ "max-report", required_argument, NULL, 'm' },
		{ "owner", required_argument, NULL, 'o' },
		{ "user-map", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->tz_name = "UTC";
	o->max_report = 100;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			o->table = optarg;
			break;
		case 'z':
			o->tz_name = optarg;
			break;
		case 'i':
			/* As for import: extra columns are never compared;
			 * an ignored user_id gives every row --owner. */
			if (o->nignore == SRC_MAX_COLS)
				return 2;
			o->ignore[o->nignore++] = optarg;
			break;
		case 'o':
			o->owner = optarg;
			break;
		case 'u':
			o->user_map = optarg;
			break;
		case 'm':
			o->max_report = strtol(optarg, &end, 10);
			if (*end != '\0' || o->max_report < 0)
				return 2;
			break;
		case 'h':
			fputs("usage: todoctl verify-sqlite FILE.db "
			    "[options]\n" VERIFY_USAGE, stdout);
			return -1;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "todoctl: verify-sqlite takes one FILE.db\n");
		return 2;
	}
	o->file = argv[optind];
	return 0;
}

static void
finding(struct vstats *st, const struct vopts *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
finding(struct vstats *st, const struct vopts *o, const char *fmt, ...)
{
	va_list ap;

	if (st->reported++ >= o->max_report) {
		if (st->reported == o->max_report + 1)
			printf("  ... (more findings not listed; "
			    "--max-report N)\n");
		return;
	}
	va_start(ap, fmt);
	fputs("  ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* Next source row, converted; rejected rows come back flagged. */
static enum td_status
src_advance(struct src *s, const struct conv_tz *tz,
    const struct owner_rule *rule, struct side *a, struct vstats *st,
    const struct vopts *o)
{
	struct conv_value v[CONV_NCOLS], user, *bad;
	char show[SHOW_MAX], id[64];
	const char *col;
	int64_t owner;
	enum td_status rc;
	int64_t prev = a->r.id;
	bool done, had = a->have && !a->rejected;

	for (;;) {
		a->have = false;
		if ((rc = src_next(s, v, &done)) != TD_OK || done)
			return rc;
		st->src_rows++;
		a->have = true;
		a->rejected = conv_row(v, tz, &a->r, &a->bad, &a->why) !=
		    TD_OK;
		if (!a->rejected && had && a->r.id == prev) {
			a->rejected = true;
			a->bad = COL_ID;
			a->why = "duplicate id";
		}
		bad = &v[a->bad];
		col = conv_col_names[a->bad];
		if (!a->rejected) {
			/* The import's rule for the owner, rejections too. */
			memset(&user, 0, sizeof(user));
			if (rule->use_user && (rc = src_user(s, &user)) !=
			    TD_OK)
				return rc;
			a->rejected = owners_of(rule->ow, rule->use_user ?
			    &user : NULL, &owner, &a->owner, &a->why) != TD_OK;
			bad = &user;
			col = "user_id";
		}
		if (!a->rejected)
			return TD_OK;
		st->rejected++;
		conv_show(bad, show, sizeof(show));
		conv_show(&v[COL_ID], id, sizeof(id));
		finding(st, o, "rejected  id=%s: %s: %s (value: %s)", id, col,
		    a->why, show);
		/* Only an integer id can be matched against PostgreSQL. */
		if (v[COL_ID].type == CONV_INT) {
			a->r.id = v[COL_ID].i;
			return TD_OK;
		}
	}
}

static bool
parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0')
		return false;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return false;
	*out = v;
	return true;
}

/* Next PostgreSQL row from the COPY stream. */
static enum td_status
pg_advance(PGconn *c, struct side *b, struct vstats *st)
{
	char *f[CONV_NCOLS + 1], *p;
	size_t len[CONV_NCOLS + 1];
	bool null[CONV_NCOLS + 1];
	int n, k;

	if (b->line != NULL) {
		PQfreemem(b->line);
		b->line = NULL;
	}
	b->have = false;
	n = PQgetCopyData(c, &b->line, 0);
	if (n == -1)
		return TD_OK;	/* end of COPY: result checked by caller */
	if (n < 0) {
		log_error("reading todos: %s", PQerrorMessage(c));
		return TD_EDB;
	}
	if (n == 0 || b->line[n - 1] != '\n')
		goto bad;
	b->line[n - 1] = '\0';
	/* The columns, then the owner's address. */
	for (p = b->line, k = 0; k <= CONV_NCOLS; k++) {
		f[k] = p;
		p += strcspn(p, "\t");
		if ((*p == '\0') != (k == CONV_NCOLS))
			goto bad;
		len[k] = (size_t)(p - f[k]);
		*p++ = '\0';
		len[k] = conv_copy_unescape(f[k], len[k], &null[k]);
		f[k][len[k]] = '\0';
	}
	memset(&b->r, 0, sizeof(b->r));
	if (null[COL_ID] || !parse_i64(f[COL_ID], &b->r.id) ||
	    null[COL_TITLE] ||
	    !parse_i64(f[COL_CREATED_AT], &b->r.created_us) ||
	    !parse_i64(f[COL_UPDATED_AT], &b->r.updated_us))
		goto bad;
	b->r.title = f[COL_TITLE];
	b->r.title_len = len[COL_TITLE];
	b->r.desc = null[COL_DESCRIPTION] ? NULL : f[COL_DESCRIPTION];
	b->r.desc_len = len[COL_DESCRIPTION];
	b->r.completed = f[COL_COMPLETED][0] == 't';
	b->owner = null[CONV_NCOLS] ? NULL : f[CONV_NCOLS];
	b->have = true;
	st->pg_rows++;
	return TD_OK;
bad:
	log_error("unexpected row format from PostgreSQL");
	return TD_EDB;
}

static void
compare(const struct side *a, const struct side *b, struct vstats *st,
    const struct vopts *o)
{
	unsigned char ha[CONV_HASH_LEN], hb[CONV_HASH_LEN];
	char cols[128];
	unsigned d;
	size_t len = 0;
	int k;
	bool same_owner;

	if (a->rejected) {
		finding(st, o, "extra     id=%lld: in PostgreSQL, but its "
		    "source row is rejected", (long long)a->r.id);
		st->different++;
		return;
	}
	conv_row_hash(&a->r, ha);
	conv_row_hash(&b->r, hb);
	same_owner = (a->owner == NULL && b->owner == NULL) ||
	    (a->owner != NULL && b->owner != NULL &&
	    strcmp(a->owner, b->owner) == 0);
	if (sodium_memcmp(ha, hb, CONV_HASH_LEN) == 0 && same_owner) {
		st->same++;
		return;
	}
	st->different++;
	d = conv_row_diff(&a->r, &b->r);
	cols[0] = '\0';
	for (k = 0; k < CONV_NCOLS; k++)
		if (d & 1u << k)
			len += (size_t)snprintf(cols + len, sizeof(cols) - len,
			    "%s%s", len > 0 ? ", " : "", conv_col_names[k]);
	if (same_owner)
		finding(st, o, "different id=%lld: %s", (long long)a->r.id,
		    cols);
	else
		finding(st, o, "different id=%lld: %s%sowner (expected %s, "
		    "is %s)", (long long)a->r.id, cols, len > 0 ? ", " : "",
		    a->owner != NULL ? a->owner : "nobody",
		    b->owner != NULL ? b->owner : "nobody");
}

static enum td_status
check_sequence(PGconn *c, struct vstats *st)
{
	PGresult *res;
	int64_t max = 0, last = 0;
	bool has_max, has_last;

	if (import_exec(c, "reading the id generator", sql_seq,
	    PGRES_TUPLES_OK, &res) != TD_OK)
		return TD_EDB;
	has_max = !PQgetisnull(res, 0, 0) &&
	    parse_i64(PQgetvalue(res, 0, 0), &max);
	has_last = !PQgetisnull(res, 0, 1) &&
	    parse_i64(PQgetvalue(res, 0, 1), &last);
	PQclear(res);
	/* Never called: the first id handed out is 1. */
	st->seq_ok = !has_max || (has_last ? last >= max : max < 1);
	if (st->seq_ok)
		printf("  id generator: ok (next id above %lld)\n",
		    (long long)(has_last ? last : 0));
	else
		printf("  id generator: BEHIND: it is at %lld, the largest "
		    "id is %lld: the app's next insert would collide\n",
		    (long long)(has_last ? last : 0), (long long)max);
	return TD_OK;
}

int
verify_sqlite_main(const char *database_url, int argc, char **argv)
{
	struct vopts o;
	struct conv_tz tz;
	struct src *s = NULL;
	struct src_info info;
	struct vstats st;
	struct side a, b;
	struct progress pr;
	struct owner_rule rule = { NULL, false };
	struct owners *ow = NULL;
	PGconn *c = NULL;
	PGresult *res;
	enum td_status rc;
	double secs;
	int code = 1, k;

	memset(&st, 0, sizeof(st));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if ((k = parse_vopts(argc, argv, &o)) != 0)
		return k < 0 ? 0 : 2;
	if (import_tz_option(o.tz_name, &tz) != TD_OK)
		return 2;
	if (sodium_init() < 0)
		return 1;
	if ((rc = owners_load(o.owner, o.user_map, &ow)) != TD_OK)
		return rc == TD_ENOTFOUND ? USERS_EXIT_NO_ACCOUNT : 1;
	rule.ow = ow;
	progress_start(&pr, "verifying", 0);
	if (src_open(o.file, &s) != TD_OK)
		goto out;
	if (import_check_source(s, o.file) != TD_OK)
		goto out;
	if (src_discover(s, o.table, &info) != TD_OK ||
	    src_rows_begin(s, &info) != TD_OK)
		goto out;
	printf("verifying %s (table %s, %lld rows, timestamps without an "
	    "offset read as %s) against PostgreSQL\n", o.file, info.table,
	    (long long)info.rows, tz.name);
	if (import_user_column(&info, o.user_map != NULL, info.user_col >= 0 &&
	    import_ignored(o.ignore, o.nignore, info.cols[info.user_col]),
	    &rule.use_user) != TD_OK)
		goto out;
	for (k = 0; k < info.ncols; k++)
		if (!info.known[k] && !(k == info.user_col && rule.use_user))
			printf("  column %s: not compared (no place in "
			    "todos)\n", info.cols[k]);
	import_report_owners(ow, o.user_map, rule.use_user);
	if ((c = import_connect(database_url, "todoctl-verify")) == NULL)
		goto out;
	if ((rc = owners_resolve(ow, c, false)) != TD_OK) {
		if (rc == TD_ENOTFOUND)
			code = USERS_EXIT_NO_ACCOUNT;
		goto out;
	}
	if (import_exec(c, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY", PGRES_COMMAND_OK, NULL) != TD_OK ||
	    import_exec(c, "lifting the timeouts", DB_NO_TIMEOUTS_SQL,
	    PGRES_TUPLES_OK, NULL) != TD_OK ||
	    check_sequence(c, &st) != TD_OK ||
	    import_exec(c, "reading todos", sql_rows, PGRES_COPY_OUT, NULL) !=
	    TD_OK)
		goto out;

	pr.total = info.rows;
	if (src_advance(s, &tz, &rule, &a, &st, &o) != TD_OK ||
	    pg_advance(c, &b, &st) != TD_OK)
		goto drain;
	while (a.have || b.have) {
		if (a.have && (!b.have || a.r.id < b.r.id)) {
			if (!a.rejected) {
				st.missing++;
				finding(&st, &o, "missing   id=%lld: in "
				    "SQLite, not in PostgreSQL",
				    (long long)a.r.id);
			}
			if (src_advance(s, &tz, &rule, &a, &st, &o) != TD_OK)
				goto drain;
		} else if (!a.have || a.r.id > b.r.id) {
			st.extra++;
			finding(&st, &o, "extra     id=%lld: in PostgreSQL, "
			    "not in SQLite", (long long)b.r.id);
			if (pg_advance(c, &b, &st) != TD_OK)
				goto drain;
		} else {
			compare(&a, &b, &st, &o);
			if (src_advance(s, &tz, &rule, &a, &st, &o) != TD_OK ||
			    pg_advance(c, &b, &st) != TD_OK)
				goto drain;
		}
		if ((st.src_rows & 1023) == 0)
			progress_update(&pr, st.src_rows);
	}
	progress_end(&pr);
	code = 0;
drain:
	/* Drain the COPY (at once when it is over): its result says
	 * whether it ended cleanly. */
	if (b.line != NULL) {
		PQfreemem(b.line);
		b.line = NULL;
	}
	while (PQgetCopyData(c, &b.line, 0) >= 0) {
		PQfreemem(b.line);
		b.line = NULL;
	}
	while ((res = PQgetResult(c)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			log_error("reading todos: %s",
			    PQresultErrorMessage(res));
			code = 1;
		}
		PQclear(res);
	}
	if (code != 0)
		goto out;
	secs = progress_elapsed(&pr);
	printf("\n%-12s %10s %10s %10s %10s %10s %10s %10s %9s\n", "table",
	    "sqlite", "postgres", "identical", "missing", "extra",
	    "different", "rejected", "time");
	printf("%-12s %10lld %10lld %10lld %10lld %10lld %10lld %10lld "
	    "%8.2fs\n", info.table, (long long)st.src_rows,
	    (long long)st.pg_rows, (long long)st.same, (long long)st.missing,
	    (long long)st.extra, (long long)st.different,
	    (long long)st.rejected, secs);
	if (secs > 0)
		printf("%.0f source rows/s\n", (double)st.src_rows / secs);
	if (st.missing + st.extra + st.different > 0 || !st.seq_ok) {
		printf("DIFFERENT\n");
		code = VERIFY_EXIT_DIFFERENT;
	} else if (st.rejected > 0) {
		printf("IDENTICAL except for %lld source rows the import "
		    "rules reject\n", (long long)st.rejected);
		code = VERIFY_EXIT_REJECTED;
	} else
		printf("IDENTICAL\n");
out:
	if (b.line != NULL)
		PQfreemem(b.line);
	PQfinish(c);
	src_close(s);
	owners_free(ow);
	fflush(stdout);
	return code;
}
