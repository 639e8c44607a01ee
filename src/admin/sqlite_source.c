/* sqlite_source.c - reading the Python version's SQLite file (see .h). */
#include "sqlite_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"

struct src {
	sqlite3		*db;
	sqlite3_stmt	*rows;
	char		 path[4096];
};

static enum td_status
exec(struct src *s, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_error("%s: %s: %s", s->path, sql,
		    err != NULL ? err : sqlite3_errmsg(s->db));
		sqlite3_free(err);
		return TD_EINVAL;
	}
	return TD_OK;
}

enum td_status
src_open(const char *path, struct src **out)
{
	enum td_status rc = TD_EINVAL;
	struct src *s;
	struct stat st;
	int n;

	*out = NULL;
	if (stat(path, &st) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return errno == ENOENT ? TD_ENOTFOUND : TD_ESYSTEM;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file", path);
		return TD_EINVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TD_ENOMEM;
	n = snprintf(s->path, sizeof(s->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(s->path)) {
		log_error("SQLite path too long");
		goto out;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_error("%s: cannot open read-only: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	/* The file is not ours, nor is its schema: before it is read, no
	 * extension loading, no function that is not innocuous in a view,
	 * trigger, CHECK, generated column or index expression (else
	 * "unsafe use of ..."), no writable schema or pages. */
	if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK) {
		log_error("%s: cannot make SQLite distrust the file: %s", path,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	/* Belt and braces: no statement may write, not even by accident. */
	if ((rc = exec(s, "PRAGMA query_only = 1")) != TD_OK)
		goto out;
	/* The first read starts the snapshot every later read sees. */
	if ((rc = exec(s, "BEGIN; SELECT count(*) FROM sqlite_master")) !=
	    TD_OK) {
		log_error("%s: not a readable SQLite database", path);
		goto out;
	}
	*out = s;
	return TD_OK;
out:
	src_close(s);
	return rc;
}

void
src_close(struct src *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->rows);
	if (s->db != NULL) {
		/* Read-only: ending the read transaction changes nothing. */
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(s->db);
	}
	free(s);
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The backup's file is made here with O_EXCL | O_NOFOLLOW and written
 * through that descriptor only: a name taken by anything but a regular
 * file (a symbolic link planted there, say) is refused, and no later step
 * opens the name again, so nothing can redirect the writes. SQLite's
 * backup API fills an in-memory database (the snapshot's pages), whose
 * image is then written out: the source's size in memory for a moment.
 */
enum td_status
src_backup(struct src *s, const char *path, char *out, size_t outlen)
{
	enum td_status rc = TD_ESYSTEM;
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	unsigned char *img = NULL;
	sqlite3_int64 size = 0;
	struct stat st;
	char stamp[32];
	struct tm tm;
	time_t now;
	int fd = -1, i, n, err, copied = 0;

	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return TD_ESYSTEM;
	/* O_EXCL: a backup never overwrites an earlier one, which moves it
	 * on to the next name; anything else there stops it. */
	for (i = 1; i < 100 && fd == -1; i++) {
		n = i == 1 ? snprintf(out, outlen, "%s.bak-%s", path, stamp) :
		    snprintf(out, outlen, "%s.bak-%s-%d", path, stamp, i);
		if (n < 0 || (size_t)n >= outlen) {
			log_error("backup path too long");
			return TD_EINVAL;
		}
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST && lstat(out, &st) == 0 &&
		    !S_ISREG(st.st_mode)) {
			log_error("refusing to write the backup: %s already "
			    "exists and is %s, not an earlier backup (remove "
			    "it, or use --no-backup)", out, S_ISLNK(st.st_mode) ?
			    "a symbolic link" : "not a regular file");
			return TD_ECONFLICT;
		}
		if (fd == -1 && errno != EEXIST) {
			log_error("cannot create backup %s: %s (use "
			    "--no-backup to skip it)", out, strerror(errno));
			return TD_ESYSTEM;
		}
	}
	if (fd == -1) {
		log_error("cannot find a free backup name for %s", path);
		return TD_ESYSTEM;
	}
	/* memdb: a private in-memory database whose image can be taken
	 * without a copy. */
	if (sqlite3_open_v2("file:todoctl-backup?vfs=memdb", &dst,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
	    NULL) != SQLITE_OK) {
		log_error("backup: %s", dst != NULL ? sqlite3_errmsg(dst) :
		    "out of memory");
		goto out;
	}
	if ((b = sqlite3_backup_init(dst, "main", s->db, "main")) == NULL) {
		log_error("backup to %s: %s", out, sqlite3_errmsg(dst));
		goto out;
	}
	err = sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != SQLITE_OK || err != SQLITE_DONE) {
		log_error("backup to %s failed: %s", out, sqlite3_errmsg(dst));
		goto out;
	}
	if ((img = sqlite3_serialize(dst, "main", &size,
	    SQLITE_SERIALIZE_NOCOPY)) == NULL) {
		img = sqlite3_serialize(dst, "main", &size, 0);
		copied = 1;
	}
	if (img == NULL || size < 0) {
		log_error("backup to %s: out of memory", out);
		goto out;
	}
	if (write_all(fd, img, (size_t)size) != 0 || fsync(fd) != 0) {
		log_error("writing backup %s: %s", out, strerror(errno));
		goto out;
	}
	rc = TD_OK;
out:
	if (copied)
		sqlite3_free(img);
	sqlite3_close(dst);
	if (close(fd) != 0 && rc == TD_OK) {
		log_error("closing backup %s: %s", out, strerror(errno));
		rc = TD_ESYSTEM;
	}
	if (rc != TD_OK)
		(void)unlink(out);
	return rc;
}

enum td_status
src_integrity(struct src *s, char *msg, size_t msglen)
{
	enum td_status rc = TD_EINVAL;
	sqlite3_stmt *st = NULL;
	const char *r;
	int e;

	msg[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(20)", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	if ((e = sqlite3_step(st)) != SQLITE_ROW)
		goto fail;
	r = (const char *)sqlite3_column_text(st, 0);
	snprintf(msg, msglen, "%s", r != NULL ? r : "(no answer)");
	rc = strcmp(msg, "ok") == 0 ? TD_OK : TD_ECONFLICT;
	sqlite3_finalize(st);
	return rc;
fail:
	snprintf(msg, msglen, "%s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return TD_ECONFLICT;
}

/* SQL identifier in double quotes (doubling any inside). */
static enum td_status
quote_ident(const char *name, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen < 3)
		return TD_ETOOBIG;
	out[o++] = '"';
	for (; *name != '\0'; name++) {
		if (o + 4 > outlen)
			return TD_ETOOBIG;
		if (*name == '"')
			out[o++] = '"';
		out[o++] = *name;
	}
	out[o++] = '"';
	out[o] = '\0';
	return TD_OK;
}

static enum td_status
table_exists(struct src *s, const char *name, bool *yes)
{
	sqlite3_stmt *st = NULL;
	int e;

	*yes = false;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		log_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return TD_EINVAL;
	}
	e = sqlite3_step(st);
	*yes = e == SQLITE_ROW;
	sqlite3_finalize(st);
	return e == SQLITE_ROW || e == SQLITE_DONE ? TD_OK : TD_EINVAL;
}

enum td_status
src_discover(struct src *s, const char *table, struct src_info *info)
{
	enum td_status rc = TD_EINVAL;
	sqlite3_stmt *st = NULL;
	char q[2 * SRC_NAME_MAX + 3], sql[512];
	const char *name;
	bool yes;
	int e, c, k;

	memset(info, 0, sizeof(*info));
	info->user_col = -1;
	if (table != NULL) {
		if (table_exists(s, table, &yes) != TD_OK)
			return TD_EINVAL;
		if (!yes) {
			log_error("%s: no table %s", s->path, table);
			return TD_ENOTFOUND;
		}
	} else {
		table = "todo";
		if (table_exists(s, table, &yes) != TD_OK)
			return TD_EINVAL;
		if (!yes) {
			table = "todos";
			if (table_exists(s, table, &yes) != TD_OK)
				return TD_EINVAL;
		}
		if (!yes) {
			log_error("%s: no table todo or todos (name it with "
			    "--table)", s->path);
			return TD_ENOTFOUND;
		}
	}
	if (strlen(table) >= SRC_NAME_MAX ||
	    quote_ident(table, q, sizeof(q)) != TD_OK)
		return TD_ETOOBIG;
	snprintf(info->table, sizeof(info->table), "%s", table);

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM pragma_table_info(?1) "
	    "ORDER BY cid", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK)
		goto dberr;
	while ((e = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if (name == NULL || strlen(name) >= SRC_NAME_MAX ||
		    info->ncols == SRC_MAX_COLS) {
			log_error("%s: too many or too long column names",
			    s->path);
			goto out;
		}
		c = info->ncols++;
		snprintf(info->cols[c], SRC_NAME_MAX, "%s", name);
		for (k = 0; k < CONV_NCOLS; k++)
			if (strcasecmp(name, conv_col_names[k]) == 0) {
				info->known[c] = true;
				info->has[k] = true;
			}
		/* Not "known": the caller decides (--user-map). */
		if (strcasecmp(name, "user_id") == 0)
			info->user_col = c;
	}
	if (e != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	for (k = 0; k < CONV_NCOLS; k++)
		if (!info->has[k] && k != COL_DESCRIPTION) {
			log_error("%s: table %s has no column %s", s->path,
			    table, conv_col_names[k]);
			goto out;
		}

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", q);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto dberr;
	info->rows = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	if (table_exists(s, "alembic_version", &yes) != TD_OK)
		goto out;
	if (yes) {
		if (sqlite3_prepare_v2(s->db, "SELECT version_num FROM "
		    "alembic_version LIMIT 1", -1, &st, NULL) != SQLITE_OK)
			goto dberr;
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (name = (const char *)sqlite3_column_text(st, 0)) != NULL)
			snprintf(info->alembic, sizeof(info->alembic), "%s",
			    name);
	}
	rc = TD_OK;
	goto out;
dberr:
	log_error("%s: %s", s->path, sqlite3_errmsg(s->db));
out:
	sqlite3_finalize(st);
	return rc;
}

enum td_status
src_rows_begin(struct src *s, const struct src_info *info)
{
	char q[2 * SRC_NAME_MAX + 3], u[2 * SRC_NAME_MAX + 3], sql[1024];

	if (quote_ident(info->table, q, sizeof(q)) != TD_OK)
		return TD_ETOOBIG;
	if (info->user_col >= 0) {
		if (quote_ident(info->cols[info->user_col], u, sizeof(u)) !=
		    TD_OK)
			return TD_ETOOBIG;
	} else
		snprintf(u, sizeof(u), "NULL");
	/* Known columns (and user_id) only: the caller decided about the
	 * others. */
	snprintf(sql, sizeof(sql), "SELECT id, title, %s, completed, "
	    "created_at, updated_at, %s FROM %s ORDER BY id",
	    info->has[COL_DESCRIPTION] ? "description" : "NULL", u, q);
	sqlite3_finalize(s->rows);
	s->rows = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &s->rows, NULL) != SQLITE_OK) {
		log_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return TD_EINVAL;
	}
	return TD_OK;
}

/* Column k of the current row; as_text: numbers in their text form. */
static enum td_status
column(struct src *s, int k, bool as_text, struct conv_value *v)
{
	sqlite3_stmt *st = s->rows;
	int t;

	memset(v, 0, sizeof(*v));
	t = sqlite3_column_type(st, k);
	if (t == SQLITE_NULL) {
		v->type = CONV_NULL;
		return TD_OK;
	}
	if (t == SQLITE_BLOB) {
		v->type = CONV_BLOB;
		v->p = sqlite3_column_blob(st, k);
		v->n = (size_t)sqlite3_column_bytes(st, k);
		if (v->p == NULL)
			v->p = "";
		return TD_OK;
	}
	if (t == SQLITE_TEXT || as_text) {
		/* Text first, then its length (SQLite's rule). */
		v->type = CONV_TEXT;
		v->p = (const char *)sqlite3_column_text(st, k);
		v->n = (size_t)sqlite3_column_bytes(st, k);
		if (v->p == NULL) {
			if (sqlite3_errcode(s->db) == SQLITE_NOMEM)
				return TD_ENOMEM;
			v->p = "";
		}
		return TD_OK;
	}
	if (t == SQLITE_INTEGER) {
		v->type = CONV_INT;
		v->i = sqlite3_column_int64(st, k);
	} else {
		v->type = CONV_REAL;
		v->r = sqlite3_column_double(st, k);
	}
	return TD_OK;
}

enum td_status
src_next(struct src *s, struct conv_value v[CONV_NCOLS], bool *done)
{
	enum td_status rc;
	int e, k;

	*done = false;
	if ((e = sqlite3_step(s->rows)) == SQLITE_DONE) {
		*done = true;
		return TD_OK;
	}
	if (e != SQLITE_ROW) {
		log_error("%s: reading rows: %s", s->path,
		    sqlite3_errmsg(s->db));
		return TD_EINVAL;
	}
	for (k = 0; k < CONV_NCOLS; k++)
		if ((rc = column(s, k, k == COL_TITLE || k == COL_DESCRIPTION,
		    &v[k])) != TD_OK)
			return rc;
	return TD_OK;
}

enum td_status
src_user(struct src *s, struct conv_value *out)
{
	return column(s, CONV_NCOLS, false, out);
}
