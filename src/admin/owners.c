/* owners.c - --owner and --user-map for import and verify (see owners.h). */
#include "owners.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "log.h"

struct account {
	char		 email[EMAIL_MAX_BYTES + 1];	/* normalised */
	int64_t		 id;				/* 0 until resolved */
	const char	*where;		/* "--owner" or the map's path */
	long		 line;
};

struct entry {
	char		*src;		/* the source's user id, as text */
	size_t		 len;
	size_t		 acct;
	long		 line;
};

struct owners {
	const char	*map_path;
	struct entry	*map;
	size_t		 nmap;
	struct account	*acct;
	size_t		 nacct;
	long		 owner;		/* index into acct, or -1 */
};

void
owners_free(struct owners *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nmap; i++)
		free(o->map[i].src);
	free(o->map);
	free(o->acct);
	free(o);
}

/* The account for an address, added when new. TD_ENOTFOUND: not an
 * address (logged). */
static enum td_status
account_of(struct owners *o, const char *email, const char *where, long line,
    size_t *idx)
{
	char addr[EMAIL_MAX_BYTES + 1];
	struct account *a;
	const char *why;
	size_t i;

	if (email_normalize(email, addr, sizeof(addr), &why) != TD_OK) {
		if (line > 0)
			log_error("%s line %ld: '%s' is not an email address "
			    "(%s): no account can have it", where, line, email,
			    why);
		else
			log_error("%s: '%s' is not an email address (%s): no "
			    "account can have it", where, email, why);
		return TD_ENOTFOUND;
	}
	for (i = 0; i < o->nacct; i++)
		if (strcmp(o->acct[i].email, addr) == 0) {
			*idx = i;
			return TD_OK;
		}
	if ((a = realloc(o->acct, (o->nacct + 1) * sizeof(*a))) == NULL)
		return TD_ENOMEM;
	o->acct = a;
	a += o->nacct;
	memset(a, 0, sizeof(*a));
	memcpy(a->email, addr, strlen(addr) + 1);
	a->where = where;
	a->line = line;
	*idx = o->nacct++;
	return TD_OK;
}

/* One CSV field at *pp, in place: quoted ("" is a quote) or bare
 * (surrounding blanks trimmed). *pp moves past the comma. NULL when
 * malformed. */
static char *
field(char **pp, size_t *len, bool *last)
{
	char *p = *pp, *start, *w;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		start = w = ++p;
		for (;;) {
			if (*p == '\0')
				return NULL;	/* no closing quote */
			if (*p == '"' && p[1] == '"') {
				*w++ = '"';
				p += 2;
			} else if (*p == '"') {
				p++;
				break;
			} else
				*w++ = *p++;
		}
		*len = (size_t)(w - start);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',' && *p != '\0')
			return NULL;
	} else {
		start = p;
		p += strcspn(p, ",\"");
		if (*p == '"')
			return NULL;
		w = p;
		while (w > start && (w[-1] == ' ' || w[-1] == '\t'))
			w--;
		*len = (size_t)(w - start);
	}
	*last = *p == '\0';
	if (*p == ',')
		p++;
	start[*len] = '\0';
	*pp = p;
	return start;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->src, y->src, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static enum td_status
load_map(struct owners *o, const char *path)
{
	enum td_status rc = TD_EINVAL;
	struct entry *e;
	char *line = NULL, *p, *id, *email;
	size_t cap = 0, idlen, elen, i;
	ssize_t n;
	long lineno = 0;
	bool last, first = true;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		log_error("--user-map %s: %s", path, strerror(errno));
		return TD_ESYSTEM;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((size_t)n != strlen(line)) {
			log_error("%s line %ld: a NUL byte", path, lineno);
			goto out;
		}
		if (line[strspn(line, " \t")] == '\0')
			continue;
		p = line;
		if ((id = field(&p, &idlen, &last)) == NULL || last ||
		    (email = field(&p, &elen, &last)) == NULL || !last) {
			log_error("%s line %ld: not source_user_id,email",
			    path, lineno);
			goto out;
		}
		if (first && strchr(email, '@') == NULL) {
			first = false;		/* a header line */
			continue;
		}
		first = false;
		if (idlen == 0) {
			log_error("%s line %ld: the source user id is empty",
			    path, lineno);
			goto out;
		}
		if ((e = realloc(o->map, (o->nmap + 1) * sizeof(*e))) ==
		    NULL) {
			rc = TD_ENOMEM;
			goto out;
		}
		o->map = e;
		e += o->nmap;
		memset(e, 0, sizeof(*e));
		if ((rc = account_of(o, email, path, lineno, &e->acct)) !=
		    TD_OK)
			goto out;
		rc = TD_EINVAL;
		if ((e->src = malloc(idlen + 1)) == NULL) {
			rc = TD_ENOMEM;
			goto out;
		}
		memcpy(e->src, id, idlen + 1);
		e->len = idlen;
		e->line = lineno;
		o->nmap++;
	}
	if (ferror(f)) {
		log_error("--user-map %s: read error", path);
		rc = TD_ESYSTEM;
		goto out;
	}
	if (o->nmap == 0) {
		log_error("--user-map %s: no source_user_id,email line", path);
		goto out;
	}
	qsort(o->map, o->nmap, sizeof(*o->map), entry_cmp);
	for (i = 1; i < o->nmap; i++)
		if (entry_cmp(&o->map[i - 1], &o->map[i]) == 0) {
			log_error("%s: source user id '%s' is mapped twice "
			    "(lines %ld and %ld)", path, o->map[i].src,
			    o->map[i - 1].line, o->map[i].line);
			goto out;
		}
	rc = TD_OK;
out:
	free(line);
	fclose(f);
	return rc;
}

enum td_status
owners_load(const char *owner, const char *map_path, struct owners **out)
{
	struct owners *o;
	enum td_status rc = TD_OK;
	size_t idx;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return TD_ENOMEM;
	o->owner = -1;
	o->map_path = map_path;
	if (owner != NULL) {
		if ((rc = account_of(o, owner, "--owner", 0, &idx)) != TD_OK)
			goto fail;
		o->owner = (long)idx;
	}
	if (map_path != NULL && (rc = load_map(o, map_path)) != TD_OK)
		goto fail;
	*out = o;
	return TD_OK;
fail:
	owners_free(o);
	return rc;
}

enum td_status
owners_resolve(struct owners *o, PGconn *c, bool lock)
{
	enum td_status rc = TD_OK;
	struct account *a;
	PGresult *res;
	const char *p[1];
	size_t i;

	for (i = 0; i < o->nacct; i++) {
		a = &o->acct[i];
		p[0] = a->email;
		res = PQexecParams(c, lock ? "SELECT id FROM users WHERE "
		    "email = $1 FOR KEY SHARE" : "SELECT id FROM users WHERE "
		    "email = $1", 1, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			log_error("looking up the account %s: %s", a->email,
			    PQresultErrorMessage(res));
			PQclear(res);
			return TD_EDB;
		}
		if (PQntuples(res) == 1)
			a->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		else {
			if (a->line > 0)
				log_error("%s line %ld: no account has the "
				    "email address %s (todoctl user add %s)",
				    a->where, a->line, a->email, a->email);
			else
				log_error("%s: no account has the email "
				    "address %s (todoctl user add %s)",
				    a->where, a->email, a->email);
			rc = TD_ENOTFOUND;
		}
		PQclear(res);
	}
	return rc;
}

bool
owners_has_map(const struct owners *o)
{
	return o->map_path != NULL;
}

const char *
owners_default(const struct owners *o)
{
	return o->owner >= 0 ? o->acct[o->owner].email : NULL;
}

enum td_status
owners_of(const struct owners *o, const struct conv_value *user, int64_t *id,
    const char **email, const char **why)
{
	struct entry key, *e;
	char num[24];
	const struct account *a = NULL;

	*id = 0;
	*email = NULL;
	if (user == NULL || user->type == CONV_NULL || !owners_has_map(o)) {
		if (o->owner >= 0)
			a = &o->acct[o->owner];
	} else {
		if (user->type == CONV_INT) {
			snprintf(num, sizeof(num), "%lld", (long long)user->i);
			key.src = num;
			key.len = strlen(num);
		} else if (user->type == CONV_TEXT) {
			key.src = (char *)user->p;
			key.len = user->n;
		} else {
			*why = "user_id is neither text nor an integer";
			return TD_EINVAL;
		}
		if ((e = bsearch(&key, o->map, o->nmap, sizeof(*o->map),
		    entry_cmp)) == NULL) {
			*why = "user_id is not in the user map (--user-map)";
			return TD_EINVAL;
		}
		a = &o->acct[e->acct];
	}
	if (a != NULL) {
		*id = a->id;
		*email = a->email;
	}
	return TD_OK;
}
