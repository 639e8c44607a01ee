/* migrate.c - schema migrations: load sql/NNN_name.sql, apply, revert, report. */
#include "migrate.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "log.h"

/* Bounds on what a migrations directory may hold: anything past them is a
 * mistake (or hostile), not a schema. */
#define MAX_FILES	10000
#define MAX_FILE_SIZE	(4 * 1024 * 1024)
#define MAX_NAME	200
#define MAX_VERSION	999999999
#define HEX_LEN		(crypto_hash_sha256_BYTES * 2)

struct migration {
	int	 version;
	char	*file;		/* base name, for messages */
	char	*name;		/* the part after NNN_ without .sql */
	char	*up;
	char	*down;
	int	 up_line;	/* file line of the first line of each part */
	int	 down_line;
	char	 checksum[HEX_LEN + 1];
};

struct migrations {
	char			*dir;
	struct migration	*v;	/* sorted; v[i].version == i + 1 */
	size_t			 n;
};

/* Not to_regclass(): its catalog cache lookup can miss a table that
 * another run created while we waited for the lock; a query on pg_class
 * uses the statement's snapshot. Unqualified names resolve to the first
 * schema of search_path, which is where CREATE TABLE puts it. */
static const char *const sql_history_exists =
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relname = 'schema_migrations'"
    " AND n.nspname = pg_catalog.current_schema())";
static const char *const sql_create_history =
    "CREATE TABLE schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " duration_ms integer NOT NULL,"
    " applied_by text NOT NULL DEFAULT current_user)";
static const char *const sql_history =
    "SELECT version, name, checksum,"
    " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " applied_by, duration_ms FROM schema_migrations ORDER BY version";
enum { H_VERSION, H_NAME, H_CHECKSUM, H_AT, H_BY, H_DURATION };

/* ---- loading ----------------------------------------------------------- */

static void
migration_clear(struct migration *mg)
{
	free(mg->file);
	free(mg->name);
	free(mg->up);
	free(mg->down);
	memset(mg, 0, sizeof(*mg));
}

void
migrate_free(struct migrations *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		migration_clear(&m->v[i]);
	free(m->v);
	free(m->dir);
	free(m);
}

int
migrate_latest(const struct migrations *m)
{
	return m->n == 0 ? 0 : m->v[m->n - 1].version;
}

/* Strict decimal int in [lo, hi]; the whole string must be digits. */
static bool
parse_int(const char *s, size_t len, int lo, int hi, int *out)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* Split "NNN_name.sql" into version and name; false if it is not that. */
static bool
parse_file_name(const char *file, int *version, const char **name,
    size_t *namelen)
{
	size_t len = strlen(file), digits, i;

	if (len < 4 || strcmp(file + len - 4, ".sql") != 0)
		return false;
	len -= 4;
	for (digits = 0; digits < len && isdigit((unsigned char)file[digits]);
	    digits++)
		continue;
	if (digits == 0 || digits >= len || file[digits] != '_')
		return false;
	if (!parse_int(file, digits, 1, MAX_VERSION, version))
		return false;
	*name = file + digits + 1;
	*namelen = len - digits - 1;
	if (*namelen == 0 || *namelen > MAX_NAME)
		return false;
	for (i = 0; i < *namelen; i++) {
		unsigned char c = (unsigned char)(*name)[i];

		if (!isalnum(c) && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* Whole file into a NUL-terminated buffer; NUL bytes inside are refused
 * since libpq takes the SQL as a C string. */
static enum td_status
read_file(const char *path, char **out, size_t *outlen)
{
	enum td_status rc = TD_ESYSTEM;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return TD_ESYSTEM;
	}
	if (fstat(fd, &st) == -1) {
		log_error("cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
		log_error("%s is not a regular file of at most %d bytes",
		    path, MAX_FILE_SIZE);
		rc = TD_EINVAL;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	/* The size may change under us: read at most what we allocated. */
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			log_error("cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		log_error("%s contains a NUL byte", path);
		rc = TD_EINVAL;
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = TD_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

static bool
is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

enum marker { M_NONE, M_UP, M_DOWN, M_OPTIONS };

/* dbmate's markers: "--" then optional blanks then "migrate:up" or
 * "migrate:down" alone on the line. dbmate's options after the marker
 * (transaction:false) are refused: every part runs in a transaction here. */
static enum marker
marker(const char *s, size_t len)
{
	enum marker m;
	size_t i = 2, k;

	if (len < 2 || s[0] != '-' || s[1] != '-')
		return M_NONE;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (len - i >= 12 && memcmp(s + i, "migrate:down", 12) == 0) {
		m = M_DOWN;
		i += 12;
	} else if (len - i >= 10 && memcmp(s + i, "migrate:up", 10) == 0) {
		m = M_UP;
		i += 10;
	} else
		return M_NONE;
	if (i == len || is_blank(s + i, len - i))
		return m;
	if (!isspace((unsigned char)s[i]))
		return M_NONE;	/* "-- migrate:update", not a marker */
	for (k = i; k < len; k++)
		if (!isspace((unsigned char)s[k]))
			return M_OPTIONS;
	return m;
}

/* Find both markers and copy the parts after each into mg. */
static enum td_status
split_parts(struct migration *mg, const char *path, const char *text,
    size_t len)
{
	const char *line, *nl, *end = text + len;
	const char *up = NULL, *down = NULL, *up_end, *down_end;
	const char *up_marker = NULL, *down_marker = NULL;
	int lineno = 1;
	size_t ll;

	for (line = text; line < end; line = nl + 1, lineno++) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		ll = (size_t)(nl - line);
		switch (marker(line, ll)) {
		case M_NONE:
			break;
		case M_OPTIONS:
			log_error("%s:%d: options after a migrate marker are not "
			    "supported", path, lineno);
			return TD_EINVAL;
		case M_UP:
			if (up_marker != NULL) {
				log_error("%s:%d: second -- migrate:up", path,
				    lineno);
				return TD_EINVAL;
			}
			up_marker = line;
			up = nl < end ? nl + 1 : end;
			mg->up_line = lineno + 1;
			break;
		case M_DOWN:
			if (down_marker != NULL) {
				log_error("%s:%d: second -- migrate:down", path,
				    lineno);
				return TD_EINVAL;
			}
			down_marker = line;
			down = nl < end ? nl + 1 : end;
			mg->down_line = lineno + 1;
			break;
		}
		if (nl == end)
			break;
	}
	if (up == NULL || down == NULL) {
		log_error("%s: needs both a '-- migrate:up' and a "
		    "'-- migrate:down' line", path);
		return TD_EINVAL;
	}
	up_end = down_marker > up_marker ? down_marker : end;
	down_end = up_marker > down_marker ? up_marker : end;
	if (is_blank(up, (size_t)(up_end - up))) {
		log_error("%s: the migrate:up part is empty", path);
		return TD_EINVAL;
	}
	if ((mg->up = strndup(up, (size_t)(up_end - up))) == NULL ||
	    (mg->down = strndup(down, (size_t)(down_end - down))) == NULL)
		return TD_ENOMEM;
	return TD_OK;
}

static enum td_status
load_one(struct migration *mg, const char *dir, const char *file)
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	enum td_status rc;
	char path[PATH_MAX], *text = NULL;
	const char *name;
	size_t namelen, len;
	int n;

	if (!parse_file_name(file, &mg->version, &name, &namelen)) {
		log_error("%s/%s: migration file names must be NNN_name.sql "
		    "(name: letters, digits, _ or -)", dir, file);
		return TD_EINVAL;
	}
	n = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_error("%s/%s: path too long", dir, file);
		return TD_EINVAL;
	}
	if ((mg->file = strdup(file)) == NULL ||
	    (mg->name = strndup(name, namelen)) == NULL)
		return TD_ENOMEM;
	if ((rc = read_file(path, &text, &len)) != TD_OK)
		return rc;
	crypto_hash_sha256(hash, (const unsigned char *)text, len);
	sodium_bin2hex(mg->checksum, sizeof(mg->checksum), hash, sizeof(hash));
	rc = split_parts(mg, path, text, len);
	free(text);
	return rc;
}

static int
by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

enum td_status
migrate_load(const char *dir, struct migrations **out)
{
	enum td_status rc = TD_ESYSTEM;
	struct migrations *m = NULL;
	struct migration *grown;
	struct dirent *de;
	size_t cap = 0, i;
	DIR *d = NULL;

	*out = NULL;
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return TD_ESYSTEM;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->dir = strdup(dir)) == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		log_error("cannot open migrations directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				log_error("cannot read %s: %s", dir,
				    strerror(errno));
				goto out;
			}
			break;
		}
		/* Hidden files and editor leftovers (x.sql~) are not ours. */
		if (de->d_name[0] == '.' || strlen(de->d_name) < 4 ||
		    strcmp(de->d_name + strlen(de->d_name) - 4, ".sql") != 0)
			continue;
		if (m->n == MAX_FILES) {
			log_error("%s: more than %d migration files", dir,
			    MAX_FILES);
			rc = TD_ETOOBIG;
			goto out;
		}
		if (m->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((grown = realloc(m->v, cap * sizeof(*grown))) ==
			    NULL) {
				rc = TD_ENOMEM;
				goto out;
			}
			m->v = grown;
		}
		memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
		m->n++;
		if ((rc = load_one(&m->v[m->n - 1], dir, de->d_name)) != TD_OK)
			goto out;
	}
	if (m->n > 0)
		qsort(m->v, m->n, sizeof(m->v[0]), by_version);
	rc = TD_EINVAL;
	for (i = 0; i < m->n; i++) {
		if (i > 0 && m->v[i].version == m->v[i - 1].version) {
			log_error("%s/%s: version %d is also used by %s", dir,
			    m->v[i].file, m->v[i].version, m->v[i - 1].file);
			goto out;
		}
		if (m->v[i].version != (int)i + 1) {
			log_error("%s/%s: version %d missing before it "
			    "(versions must be 1, 2, 3, ...)", dir,
			    m->v[i].file, (int)i + 1);
			goto out;
		}
	}
	*out = m;
	m = NULL;
	rc = TD_OK;
out:
	if (d != NULL)
		closedir(d);
	migrate_free(m);
	return rc;
}

/* ---- database helpers -------------------------------------------------- */

/* Log a failed statement: what, SQLSTATE and the server's words. */
static void
db_error(PGconn *c, const PGresult *res, const char *what)
{
	const char *state = NULL, *msg = NULL;
	char buf[512];
	size_t n;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorMessage(res);
	}
	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(c);
	snprintf(buf, sizeof(buf), "%s", msg);
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	log_error("%s: SQLSTATE %s: %s", what, state ? state : "none", buf);
}

/* Run sql with text parameters; TD_EDB (logged) unless the result has
 * status want. The result goes to *out when out is not NULL. */
static enum td_status
run(PGconn *c, PGresult **out, ExecStatusType want, const char *what,
    const char *sql, int nparams, const char *const *params)
{
	PGresult *res;

	if (out != NULL)
		*out = NULL;
	res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != want) {
		db_error(c, res, what);
		PQclear(res);
		return TD_EDB;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return TD_OK;
}

static enum td_status
begin_locked(PGconn *c)
{
	enum td_status rc;
	char key[32];
	const char *p[1] = { key };

	snprintf(key, sizeof(key), "%lld", MIGRATE_LOCK_KEY);
	if ((rc = run(c, NULL, PGRES_COMMAND_OK, "BEGIN", "BEGIN", 0,
	    NULL)) != TD_OK)
		return rc;
	/* The app's role has short statement and lock timeouts (set by
	 * migrate up itself); a migration may build an index for minutes
	 * and waits for the app's statements, which are bounded anyway. SET
	 * LOCAL works through a transaction pooler too. */
	if ((rc = run(c, NULL, PGRES_TUPLES_OK, "lifting the timeouts",
	    DB_NO_TIMEOUTS_SQL, 0, NULL)) != TD_OK)
		return rc;
	/* Waits while another run holds it: that run's migration is what
	 * we want to see committed before deciding anything. */
	return run(c, NULL, PGRES_TUPLES_OK, "taking the migration lock",
	    "SELECT pg_advisory_xact_lock($1::bigint)", 1, p);
}

static void
rollback(PGconn *c)
{
	if (PQtransactionStatus(c) == PQTRANS_IDLE)
		return;
	/* A failure here is logged; the server drops the transaction when
	 * the connection goes anyway. */
	(void)run(c, NULL, PGRES_COMMAND_OK, "ROLLBACK", "ROLLBACK", 0, NULL);
}

static enum td_status
commit(PGconn *c)
{
	PGresult *res;
	enum td_status rc;

	if ((rc = run(c, &res, PGRES_COMMAND_OK, "COMMIT", "COMMIT", 0,
	    NULL)) != TD_OK)
		return rc;
	/* COMMIT of an aborted transaction "succeeds" as ROLLBACK. */
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_error("COMMIT was turned into %s", PQcmdStatus(res));
		rc = TD_EDB;
	}
	PQclear(res);
	return rc;
}

static enum td_status
history_exists(PGconn *c, bool *exists)
{
	PGresult *res;
	enum td_status rc;

	if ((rc = run(c, &res, PGRES_TUPLES_OK, "looking for schema_migrations",
	    sql_history_exists, 0, NULL)) != TD_OK)
		return rc;
	*exists = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return TD_OK;
}

/* All history rows by version (sql_history's columns); *out is NULL when
 * the table does not exist. Versions are checked to be sane integers. */
static enum td_status
history(PGconn *c, PGresult **out)
{
	enum td_status rc;
	bool exists;
	int i, v;

	*out = NULL;
	if ((rc = history_exists(c, &exists)) != TD_OK || !exists)
		return rc;
	if ((rc = run(c, out, PGRES_TUPLES_OK, "reading schema_migrations",
	    sql_history, 0, NULL)) != TD_OK)
		return rc;
	for (i = 0; i < PQntuples(*out); i++) {
		const char *s = PQgetvalue(*out, i, H_VERSION);

		if (!parse_int(s, strlen(s), 1, MAX_VERSION, &v)) {
			log_error("schema_migrations holds version %s, outside "
			    "1..%d", s, MAX_VERSION);
			PQclear(*out);
			*out = NULL;
			return TD_ECONFLICT;
		}
	}
	return TD_OK;
}

static int
row_version(const PGresult *h, int row)
{
	const char *s = PQgetvalue(h, row, H_VERSION);
	int v = 0;

	/* Checked by history(). */
	(void)parse_int(s, strlen(s), 1, MAX_VERSION, &v);
	return v;
}

static const struct migration *
find(const struct migrations *m, int version)
{
	if (version < 1 || (size_t)version > m->n)
		return NULL;
	return &m->v[version - 1];
}

/* Every applied migration must still have its file, unchanged: all
 * problems are logged, not just the first. */
static enum td_status
verify(const struct migrations *m, const PGresult *h)
{
	const struct migration *mg;
	enum td_status rc = TD_OK;
	int i, v;

	for (i = 0; h != NULL && i < PQntuples(h); i++) {
		v = row_version(h, i);
		if ((mg = find(m, v)) == NULL) {
			log_error("migration %d (%s) is applied but has no file "
			    "in %s", v, PQgetvalue(h, i, H_NAME), m->dir);
			rc = TD_ECONFLICT;
		} else if (strcmp(mg->checksum,
		    PQgetvalue(h, i, H_CHECKSUM)) != 0) {
			log_error("%s/%s was changed after it was applied: "
			    "recorded checksum %s, file checksum %s", m->dir,
			    mg->file, PQgetvalue(h, i, H_CHECKSUM),
			    mg->checksum);
			rc = TD_ECONFLICT;
		} else if (strcmp(mg->name, PQgetvalue(h, i, H_NAME)) != 0)
			log_warn("%s/%s was applied under the name %s", m->dir,
			    mg->file, PQgetvalue(h, i, H_NAME));
	}
	if (rc != TD_OK)
		log_error("refusing to migrate: restore the applied files or "
		    "fix schema_migrations by hand");
	return rc;
}

static long long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	if (clock_gettime(CLOCK_MONOTONIC, &t1) == -1)
		return 0;
	return (long long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* File line of the server's error position (1-based characters into
 * sql, which starts at line first); 0 when unknown. */
static int
error_line(const PGresult *res, const char *sql, int first)
{
	const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	int chars, line = first;
	const unsigned char *p;

	if (pos == NULL || !parse_int(pos, strlen(pos), 1, INT_MAX, &chars))
		return 0;
	for (p = (const unsigned char *)sql; *p != '\0'; p++) {
		/* UTF-8 continuation bytes are not characters. */
		if ((*p & 0xc0) != 0x80 && --chars == 0)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Run one part of a migration file inside the open transaction. */
static enum td_status
run_part(PGconn *c, const struct migrations *m, const struct migration *mg,
    bool up)
{
	const char *sql = up ? mg->up : mg->down;
	const char *field;
	char where[64] = "";
	PGresult *res;
	ExecStatusType st;
	int line;

	/* Several statements in one string: PQexec, not PQexecParams. It
	 * stops at the first failing statement and returns its error. */
	res = PQexec(c, sql);
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	    (up && st == PGRES_EMPTY_QUERY)) {
		PQclear(res);
		if (PQtransactionStatus(c) != PQTRANS_INTRANS) {
			log_error("%s/%s: the %s part ended the migration's "
			    "transaction (COMMIT or ROLLBACK in the file?); "
			    "check the schema by hand", m->dir, mg->file,
			    up ? "up" : "down");
			return TD_EDB;
		}
		return TD_OK;
	}
	if (st == PGRES_EMPTY_QUERY) {
		log_error("%s/%s: the down part has no statements", m->dir,
		    mg->file);
		PQclear(res);
		return TD_EINVAL;
	}
	if (res != NULL &&
	    (line = error_line(res, sql, up ? mg->up_line : mg->down_line)) > 0)
		snprintf(where, sizeof(where), ":%d", line);
	field = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL;
	if (field == NULL) {
		char what[PATH_MAX + 64];

		snprintf(what, sizeof(what), "%s/%s%s: %s failed", m->dir,
		    mg->file, where, up ? "migration" : "revert");
		db_error(c, res, what);
	} else {
		const char *detail = PQresultErrorField(res,
		    PG_DIAG_MESSAGE_DETAIL);
		const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		log_error("%s/%s%s: %s failed, rolled back: SQLSTATE %s: %s%s%s"
		    "%s%s", m->dir, mg->file, where,
		    up ? "migration" : "revert", state ? state : "none", field,
		    detail ? "; detail: " : "", detail ? detail : "",
		    hint ? "; hint: " : "", hint ? hint : "");
	}
	PQclear(res);
	return TD_EDB;
}

/* ---- up ---------------------------------------------------------------- */

static enum td_status
apply_one(PGconn *c, const struct migrations *m, const struct migration *mg)
{
	enum td_status rc;
	struct timespec t0;
	PGresult *res = NULL;
	char version[16], duration[24];
	const char *p[4] = { version, mg->name, mg->checksum, duration };
	bool exists;
	long long ms;

	snprintf(version, sizeof(version), "%d", mg->version);
	if ((rc = begin_locked(c)) != TD_OK)
		goto out;
	/* Under the lock, so two first runs cannot both create it. */
	if ((rc = history_exists(c, &exists)) != TD_OK)
		goto out;
	if (!exists && (rc = run(c, NULL, PGRES_COMMAND_OK,
	    "creating schema_migrations", sql_create_history, 0, NULL)) != TD_OK)
		goto out;
	/* Another run may have applied it while we waited for the lock. */
	if ((rc = run(c, &res, PGRES_TUPLES_OK, "reading schema_migrations",
	    "SELECT checksum FROM schema_migrations WHERE version = $1::integer",
	    1, p)) != TD_OK)
		goto out;
	if (PQntuples(res) > 0) {
		if (strcmp(PQgetvalue(res, 0, 0), mg->checksum) != 0) {
			log_error("%s/%s was applied meanwhile from a different "
			    "file: recorded checksum %s, file checksum %s",
			    m->dir, mg->file, PQgetvalue(res, 0, 0),
			    mg->checksum);
			rc = TD_ECONFLICT;
		} else
			log_info("%s was applied by another run", mg->file);
		goto out;
	}
	PQclear(res);
	res = NULL;

	if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1) {
		rc = TD_ESYSTEM;
		goto out;
	}
	if ((rc = run_part(c, m, mg, true)) != TD_OK)
		goto out;
	ms = ms_since(&t0);
	snprintf(duration, sizeof(duration), "%lld",
	    ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : ms);
	if ((rc = run(c, NULL, PGRES_COMMAND_OK, "recording the migration",
	    "INSERT INTO schema_migrations (version, name, checksum, "
	    "duration_ms) VALUES ($1::integer, $2, $3, $4::integer)", 4,
	    p)) != TD_OK)
		goto out;
	if ((rc = commit(c)) != TD_OK)
		goto out;
	log_info("applied %s in %s ms", mg->file, duration);
out:
	PQclear(res);
	rollback(c);
	return rc;
}

enum td_status
migrate_up(PGconn *c, const struct migrations *m, int target)
{
	enum td_status rc;
	PGresult *h = NULL;
	bool *applied = NULL;
	int i, v, latest = migrate_latest(m), done = 0;

	if (target < 0 || target > latest) {
		log_error("no migration %d in %s (latest is %d)", target,
		    m->dir, latest);
		return TD_EINVAL;
	}
	if (target == 0)
		target = latest;
	if ((rc = history(c, &h)) != TD_OK || (rc = verify(m, h)) != TD_OK)
		goto out;
	if ((applied = calloc((size_t)latest + 1, sizeof(*applied))) == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (i = 0; h != NULL && i < PQntuples(h); i++)
		applied[row_version(h, i)] = true;	/* verify(): <= latest */
	for (v = 1; v <= target; v++) {
		if (applied[v])
			continue;
		if ((rc = apply_one(c, m, find(m, v))) != TD_OK)
			goto out;
		done++;
	}
	if (done == 0)
		log_info("nothing to apply: version %d is applied", target);
out:
	free(applied);
	PQclear(h);
	return rc;
}

/* ---- down -------------------------------------------------------------- */

static enum td_status
revert_one(PGconn *c, const struct migrations *m, const struct migration *mg)
{
	enum td_status rc;
	PGresult *res = NULL;
	char version[16];
	const char *p[1] = { version };

	snprintf(version, sizeof(version), "%d", mg->version);
	if ((rc = begin_locked(c)) != TD_OK)
		goto out;
	if ((rc = run(c, &res, PGRES_TUPLES_OK, "reading schema_migrations",
	    "SELECT (SELECT max(version) FROM schema_migrations),"
	    " (SELECT checksum FROM schema_migrations"
	    "  WHERE version = $1::integer)", 1, p)) != TD_OK)
		goto out;
	if (PQgetisnull(res, 0, 1)) {
		log_info("%s was reverted by another run", mg->file);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 1), mg->checksum) != 0) {
		log_error("%s/%s was applied meanwhile from a different file: "
		    "recorded checksum %s, file checksum %s", m->dir, mg->file,
		    PQgetvalue(res, 0, 1), mg->checksum);
		rc = TD_ECONFLICT;
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), version) != 0) {
		log_error("not reverting %s: version %s was applied meanwhile",
		    mg->file, PQgetvalue(res, 0, 0));
		rc = TD_ECONFLICT;
		goto out;
	}
	PQclear(res);
	res = NULL;
	if ((rc = run_part(c, m, mg, false)) != TD_OK)
		goto out;
	if ((rc = run(c, &res, PGRES_COMMAND_OK, "deleting the history row",
	    "DELETE FROM schema_migrations WHERE version = $1::integer", 1,
	    p)) != TD_OK)
		goto out;
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		log_error("deleting the history row of %s removed %s rows",
		    mg->file, PQcmdTuples(res));
		rc = TD_EDB;
		goto out;
	}
	if ((rc = commit(c)) != TD_OK)
		goto out;
	log_info("reverted %s", mg->file);
out:
	PQclear(res);
	rollback(c);
	return rc;
}

enum td_status
migrate_down(PGconn *c, const struct migrations *m, int n)
{
	const struct migration *mg;
	enum td_status rc;
	PGresult *h = NULL;
	int i, rows;

	if (n < 1) {
		log_error("the number of migrations to revert must be >= 1");
		return TD_EINVAL;
	}
	if ((rc = history(c, &h)) != TD_OK || (rc = verify(m, h)) != TD_OK)
		goto out;
	rows = h != NULL ? PQntuples(h) : 0;
	if (n > rows) {
		log_error("cannot revert %d migrations: %d applied", n, rows);
		rc = TD_EINVAL;
		goto out;
	}
	/* All of them must be revertible before the first one is. */
	for (i = rows - 1; i >= rows - n; i--) {
		mg = find(m, row_version(h, i));
		if (is_blank(mg->down, strlen(mg->down))) {
			log_error("%s/%s has an empty down part: it cannot be "
			    "reverted", m->dir, mg->file);
			rc = TD_EINVAL;
			goto out;
		}
	}
	for (i = rows - 1; i >= rows - n; i--)
		if ((rc = revert_one(c, m, find(m, row_version(h, i)))) !=
		    TD_OK)
			goto out;
out:
	PQclear(h);
	return rc;
}

/* ---- status ------------------------------------------------------------ */

enum td_status
migrate_status(PGconn *c, const struct migrations *m, FILE *out,
    enum migrate_state *state)
{
	const struct migration *mg;
	enum td_status rc;
	PGresult *h = NULL;
	size_t fi = 0;
	char vs[16];
	int row = 0, rows, v, applied = 0, pending = 0, changed = 0,
	    missing = 0;

	*state = MIGRATE_CLEAN;
	if ((rc = history(c, &h)) != TD_OK)
		goto out;
	rows = h != NULL ? PQntuples(h) : 0;
	fprintf(out, "%-8s %-8s %-9s %-21s %s\n", "VERSION", "STATE",
	    "CHECKSUM", "APPLIED_AT", "NAME");
	/* Merge files and history rows, both sorted by version. */
	while (fi < m->n || row < rows) {
		v = row < rows ? row_version(h, row) : INT_MAX;
		mg = fi < m->n ? &m->v[fi] : NULL;
		snprintf(vs, sizeof(vs), "%03d", mg != NULL && mg->version < v ?
		    mg->version : v);
		if (mg != NULL && mg->version < v) {
			fprintf(out, "%-8s %-8s %-9s %-21s %s\n", vs,
			    "pending", "-", "-", mg->name);
			pending++;
			fi++;
		} else if (mg != NULL && mg->version == v) {
			bool ok = strcmp(mg->checksum,
			    PQgetvalue(h, row, H_CHECKSUM)) == 0;

			fprintf(out, "%-8s %-8s %-9s %-21s %s", vs,
			    "applied", ok ? "ok" : "CHANGED",
			    PQgetvalue(h, row, H_AT), mg->name);
			if (!ok)
				fprintf(out, " (recorded %s, file %s)",
				    PQgetvalue(h, row, H_CHECKSUM),
				    mg->checksum);
			fputc('\n', out);
			applied++;
			changed += !ok;
			fi++;
			row++;
		} else {
			fprintf(out, "%-8s %-8s %-9s %-21s %s (no file)\n",
			    vs, "applied", "MISSING", PQgetvalue(h, row, H_AT),
			    PQgetvalue(h, row, H_NAME));
			applied++;
			missing++;
			row++;
		}
	}
	fprintf(out, "%d applied, %d pending, %d changed, %d missing\n",
	    applied, pending, changed, missing);
	if (changed > 0 || missing > 0)
		*state = MIGRATE_MISMATCH;
	else if (pending > 0)
		*state = MIGRATE_PENDING;
	if (fflush(out) == EOF || ferror(out)) {
		log_error("cannot write the status: %s", strerror(errno));
		rc = TD_ESYSTEM;
	}
out:
	PQclear(h);
	return rc;
}

enum td_status
migrate_count(PGconn *c, const struct migrations *m, struct migrate_counts *n)
{
	const struct migration *mg;
	enum td_status rc;
	PGresult *h = NULL;
	int i, rows;

	memset(n, 0, sizeof(*n));
	if ((rc = history(c, &h)) != TD_OK)
		return rc;
	rows = h != NULL ? PQntuples(h) : 0;
	for (i = 0; i < rows; i++) {
		n->applied++;
		if ((mg = find(m, row_version(h, i))) == NULL)
			n->missing++;
		else if (strcmp(mg->checksum,
		    PQgetvalue(h, i, H_CHECKSUM)) != 0)
			n->changed++;
	}
	/* Files are versions 1..n without gaps (migrate_load). */
	n->pending = (int)m->n - (n->applied - n->missing);
	PQclear(h);
	return TD_OK;
}

enum td_status
migrate_current_version(PGconn *c, int *version)
{
	enum td_status rc;
	PGresult *res = NULL;
	const char *s;
	bool exists;

	*version = 0;
	if ((rc = history_exists(c, &exists)) != TD_OK || !exists)
		return rc;
	if ((rc = run(c, &res, PGRES_TUPLES_OK, "reading the schema version",
	    "SELECT coalesce(max(version), 0) FROM schema_migrations", 0,
	    NULL)) != TD_OK)
		return rc;
	s = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
	if (!parse_int(s, strlen(s), 0, MAX_VERSION, version)) {
		log_error("schema_migrations holds version '%s'", s);
		rc = TD_ECONFLICT;
	}
	PQclear(res);
	return rc;
}
