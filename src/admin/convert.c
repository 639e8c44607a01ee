/* convert.c - SQLite todo values to PostgreSQL values (see convert.h). */
#include "convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "utf8.h"

const char *const conv_col_names[CONV_NCOLS] = { "id", "title",
    "description", "completed", "created_at", "updated_at" };

#define SECS_PER_DAY	86400LL
#define US_PER_SEC	1000000LL
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_SECS	(-62135596800LL)
#define MAX_SECS	253402300799LL
#define EPOCH_SECS_LIMIT	100000000000LL		/* 1e11 s: year 5138 */
#define EPOCH_MS_LIMIT		100000000000000LL	/* 1e14 ms: year 5138 */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return dm[m - 1];
}

/* Exactly n digits at s[*i]; advances *i. */
static bool
digits(const char *s, size_t len, size_t *i, int n, int *out)
{
	int v = 0, k;

	if (len - *i < (size_t)n)
		return false;
	for (k = 0; k < n; k++) {
		char c = s[*i + (size_t)k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += (size_t)n;
	*out = v;
	return true;
}

static bool
is_utc_name(const char *s)
{
	return strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0 ||
	    strcmp(s, "Z") == 0 || strcmp(s, "Etc/UTC") == 0 ||
	    strcmp(s, "GMT") == 0 || strcmp(s, "Etc/GMT") == 0;
}

/* "+HH", "+HH:MM" or "+HHMM" filling all of s[i..n). */
static bool
parse_offset(const char *s, size_t n, size_t i, int *off)
{
	int sign, h, m = 0;

	if (i >= n || (s[i] != '+' && s[i] != '-'))
		return false;
	sign = s[i++] == '-' ? -1 : 1;
	if (!digits(s, n, &i, 2, &h))
		return false;
	if (i < n && s[i] == ':')
		i++;
	if (i < n && !digits(s, n, &i, 2, &m))
		return false;
	if (i != n || h > 15 || m > 59)
		return false;
	*off = sign * (h * 3600 + m * 60);
	return true;
}

enum td_status
conv_tz_parse(const char *s, struct conv_tz *out)
{
	const char *dir, *p;
	char path[512];
	struct stat st;
	int n;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0' || strlen(s) >= sizeof(out->name))
		return TD_EINVAL;
	snprintf(out->name, sizeof(out->name), "%s", s);
	if (is_utc_name(s)) {
		out->kind = TZ_UTC;
		return TD_OK;
	}
	if (parse_offset(s, strlen(s), 0, &out->offset_s)) {
		out->kind = TZ_FIXED;
		return TD_OK;
	}
	/* A path under the zoneinfo directory, and nothing else: glibc
	 * silently takes an unknown name as UTC. */
	if (s[0] == '/' || strstr(s, "..") != NULL)
		return TD_EINVAL;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' ||
		    *p == '-' || *p == '+'))
			return TD_EINVAL;
	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	n = snprintf(path, sizeof(path), "%s/%s", dir, s);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) == -1 ||
	    !S_ISREG(st.st_mode))
		return TD_EINVAL;
	if (setenv("TZ", s, 1) == -1)
		return TD_ESYSTEM;
	tzset();
	out->kind = TZ_NAMED;
	return TD_OK;
}

static bool
gmtoff_at(int64_t t, long *off)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return false;
	*off = tm.tm_gmtoff;
	return true;
}

/* Local wall-clock seconds (as if UTC) in the named zone to UTC. */
static enum td_status
local_to_utc(int64_t local, int64_t *utc, const char **why)
{
	long before, after, chk;
	bool ok_a, ok_b;

	/* The offsets a day either side; a wall time maps to local - off
	 * for whichever of them holds at that instant. */
	if (!gmtoff_at(local - SECS_PER_DAY, &before) ||
	    !gmtoff_at(local + SECS_PER_DAY, &after)) {
		*why = "date outside the time zone's range";
		return TD_EINVAL;
	}
	ok_a = gmtoff_at(local - before, &chk) && chk == before;
	ok_b = gmtoff_at(local - after, &chk) && chk == after;
	if (ok_b) {
		/* Ambiguous (both hold): PostgreSQL's choice, the offset
		 * in force after the transition. */
		*utc = local - after;
		return TD_OK;
	}
	if (ok_a) {
		*utc = local - before;
		return TD_OK;
	}
	*why = "local time does not exist in the source time zone (DST gap)";
	return TD_EINVAL;
}

static enum td_status
parse_text_ts(const char *s, size_t n, const struct conv_tz *tz, int64_t *us,
    const char **why)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0, k;
	int64_t frac = 0, secs;
	size_t i = 0, j;
	bool has_off = false;

	*why = "unreadable date";
	if (!digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' ||
	    !digits(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' ||
	    !digits(s, n, &i, 2, &d))
		return TD_EINVAL;
	if (i < n) {
		if (s[i] != ' ' && s[i] != 'T' && s[i] != 't')
			return TD_EINVAL;
		i++;
		if (!digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' ||
		    !digits(s, n, &i, 2, &mi))
			return TD_EINVAL;
		if (i < n && s[i] == ':') {
			i++;
			if (!digits(s, n, &i, 2, &sec))
				return TD_EINVAL;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				for (j = i, k = 0; j < n && s[j] >= '0' &&
				    s[j] <= '9'; j++, k++) {
					if (k < 6)
						frac = frac * 10 + (s[j] - '0');
					else if (s[j] != '0') {
						*why = "date has more than "
						    "microsecond precision";
						return TD_EINVAL;
					}
				}
				if (k == 0 || k > 9)
					return TD_EINVAL;
				for (; k < 6; k++)
					frac *= 10;
				i = j;
			}
		}
		if (i < n) {
			if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
				off = 0;
			else if (!parse_offset(s, n, i, &off))
				return TD_EINVAL;
			has_off = true;
		}
	}
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59) {
		*why = "date out of range";
		return TD_EINVAL;
	}
	secs = days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 +
	    sec;
	if (has_off)
		secs -= off;
	else if (tz->kind == TZ_FIXED)
		secs -= tz->offset_s;
	else if (tz->kind == TZ_NAMED && local_to_utc(secs, &secs, why) !=
	    TD_OK)
		return TD_EINVAL;
	if (secs < MIN_SECS || secs > MAX_SECS) {
		*why = "date out of range";
		return TD_EINVAL;
	}
	*us = secs * US_PER_SEC + frac;
	return TD_OK;
}

enum td_status
conv_timestamp(const struct conv_value *v, const struct conv_tz *tz,
    int64_t *us, const char **why)
{
	int64_t e;

	switch (v->type) {
	case CONV_TEXT:
		return parse_text_ts(v->p, v->n, tz, us, why);
	case CONV_INT:
		e = v->i;
		/* Seconds or milliseconds: see convert.h. */
		if (e > -EPOCH_SECS_LIMIT && e < EPOCH_SECS_LIMIT)
			e *= US_PER_SEC;
		else if (e > -EPOCH_MS_LIMIT && e < EPOCH_MS_LIMIT)
			e *= 1000;
		else {
			*why = "integer epoch too large for seconds or "
			    "milliseconds";
			return TD_EINVAL;
		}
		if (e < MIN_SECS * US_PER_SEC ||
		    e > MAX_SECS * US_PER_SEC + 999999) {
			*why = "date out of range";
			return TD_EINVAL;
		}
		*us = e;
		return TD_OK;
	case CONV_NULL:
		*why = "date is NULL";
		return TD_EINVAL;
	case CONV_REAL:
		*why = "date is a REAL (Julian day or fractional epoch: "
		    "ambiguous)";
		return TD_EINVAL;
	default:
		*why = "date is a BLOB";
		return TD_EINVAL;
	}
}

static bool
eq_nocase(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

enum td_status
conv_bool(const struct conv_value *v, bool *out, const char **why)
{
	if (v->type == CONV_INT && (v->i == 0 || v->i == 1)) {
		*out = v->i == 1;
		return TD_OK;
	}
	if (v->type == CONV_TEXT) {
		if (eq_nocase(v->p, v->n, "1") || eq_nocase(v->p, v->n, "true")) {
			*out = true;
			return TD_OK;
		}
		if (eq_nocase(v->p, v->n, "0") ||
		    eq_nocase(v->p, v->n, "false")) {
			*out = false;
			return TD_OK;
		}
	}
	*why = v->type == CONV_NULL ? "boolean is NULL" :
	    "boolean is neither 0/1 nor true/false";
	return TD_EINVAL;
}

enum td_status
conv_text(const struct conv_value *v, bool nullable, size_t min, size_t max,
    const char **out, size_t *len, const char **why)
{
	size_t chars;

	if (v->type == CONV_NULL) {
		if (!nullable) {
			*why = "NULL where text is required";
			return TD_EINVAL;
		}
		*out = NULL;
		*len = 0;
		return TD_OK;
	}
	if (v->type != CONV_TEXT && v->type != CONV_BLOB) {
		*why = "not text";
		return TD_EINVAL;
	}
	if (v->n > 0 && memchr(v->p, '\0', v->n) != NULL) {
		*why = "contains a NUL byte";
		return TD_EINVAL;
	}
	if (!utf8_valid(v->p, v->n)) {
		*why = "invalid UTF-8";
		return TD_EINVAL;
	}
	chars = utf8_count(v->p, v->n);
	if (chars < min) {
		*why = "empty";
		return TD_EINVAL;
	}
	if (chars > max) {
		*why = "too long";
		return TD_EINVAL;
	}
	/* Never NULL for a value: "" must stay distinct from NULL. */
	*out = v->n > 0 ? v->p : "";
	*len = v->n;
	return TD_OK;
}

enum td_status
conv_id(const struct conv_value *v, int64_t *out, const char **why)
{
	if (v->type != CONV_INT) {
		*why = v->type == CONV_NULL ? "id is NULL" :
		    "id is not an integer";
		return TD_EINVAL;
	}
	/* The identity hands out 1..INT64_MAX and the router addresses
	 * nothing else: a row below 1 could never be opened. */
	if (v->i < 1) {
		*why = "id is 0 or negative: the app's ids start at 1";
		return TD_EINVAL;
	}
	/* The identity column could never hand out another id. */
	if (v->i == INT64_MAX) {
		*why = "id is the largest bigint: leaves the id generator "
		    "no room";
		return TD_EINVAL;
	}
	*out = v->i;
	return TD_OK;
}

enum td_status
conv_row(const struct conv_value v[CONV_NCOLS], const struct conv_tz *tz,
    struct conv_row *r, enum conv_col *badcol, const char **why)
{
	static const char *const title_why[] = { "title is empty",
	    "title is over 200 characters" };
	const char *w;

	memset(r, 0, sizeof(*r));
	*badcol = COL_ID;
	if (conv_id(&v[COL_ID], &r->id, why) != TD_OK)
		return TD_EINVAL;
	*badcol = COL_TITLE;
	if (conv_text(&v[COL_TITLE], false, 1, CONV_TITLE_MAX, &r->title,
	    &r->title_len, &w) != TD_OK) {
		*why = strcmp(w, "empty") == 0 ? title_why[0] :
		    strcmp(w, "too long") == 0 ? title_why[1] : w;
		return TD_EINVAL;
	}
	*badcol = COL_DESCRIPTION;
	if (conv_text(&v[COL_DESCRIPTION], true, 0, CONV_DESCRIPTION_MAX,
	    &r->desc, &r->desc_len, &w) != TD_OK) {
		*why = strcmp(w, "too long") == 0 ?
		    "description is over 2000 characters" : w;
		return TD_EINVAL;
	}
	*badcol = COL_COMPLETED;
	if (conv_bool(&v[COL_COMPLETED], &r->completed, why) != TD_OK)
		return TD_EINVAL;
	*badcol = COL_CREATED_AT;
	if (conv_timestamp(&v[COL_CREATED_AT], tz, &r->created_us, why) !=
	    TD_OK)
		return TD_EINVAL;
	*badcol = COL_UPDATED_AT;
	if (conv_timestamp(&v[COL_UPDATED_AT], tz, &r->updated_us, why) !=
	    TD_OK)
		return TD_EINVAL;
	return TD_OK;
}

void
conv_format_ts(int64_t us, bool iso, char *buf)
{
	int64_t secs, days, rem, frac;
	int y, m, d;

	/* Floor division: negative instants still get a 0..999999 part. */
	secs = us / US_PER_SEC;
	frac = us % US_PER_SEC;
	if (frac < 0) {
		frac += US_PER_SEC;
		secs--;
	}
	days = secs / SECS_PER_DAY;
	rem = secs % SECS_PER_DAY;
	if (rem < 0) {
		rem += SECS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* Years outside 0..9999 cannot come out of the parsers; clamping
	 * tells the compiler the text fits in 32 bytes. */
	y = y < 0 ? 0 : (y > 9999 ? 9999 : y);
	m = m < 1 ? 1 : (m > 12 ? 12 : m);
	d = d < 1 ? 1 : (d > 31 ? 31 : d);
	snprintf(buf, 32, "%04d-%02d-%02d%c%02d:%02d:%02d.%06d%s", y, m, d,
	    iso ? 'T' : ' ', (int)(rem / 3600), (int)(rem / 60 % 60),
	    (int)(rem % 60), (int)frac, iso ? "Z" : "+00");
}

static void
hash_field(crypto_generichash_state *st, const char *p, size_t n, bool null)
{
	char len[24];
	int k;

	if (null) {
		crypto_generichash_update(st, (const unsigned char *)"N;", 2);
		return;
	}
	k = snprintf(len, sizeof(len), "%zu:", n);
	crypto_generichash_update(st, (const unsigned char *)len, (size_t)k);
	if (n > 0)
		crypto_generichash_update(st, (const unsigned char *)p, n);
	crypto_generichash_update(st, (const unsigned char *)";", 1);
}

void
conv_row_hash(const struct conv_row *r, unsigned char out[CONV_HASH_LEN])
{
	crypto_generichash_state st;
	char num[24], ts[32];

	crypto_generichash_init(&st, NULL, 0, CONV_HASH_LEN);
	snprintf(num, sizeof(num), "%lld", (long long)r->id);
	hash_field(&st, num, strlen(num), false);
	hash_field(&st, r->title, r->title_len, false);
	hash_field(&st, r->desc, r->desc_len, r->desc == NULL);
	hash_field(&st, r->completed ? "1" : "0", 1, false);
	conv_format_ts(r->created_us, true, ts);
	hash_field(&st, ts, strlen(ts), false);
	conv_format_ts(r->updated_us, true, ts);
	hash_field(&st, ts, strlen(ts), false);
	crypto_generichash_final(&st, out, CONV_HASH_LEN);
}

static bool
bytes_eq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

unsigned
conv_row_diff(const struct conv_row *a, const struct conv_row *b)
{
	unsigned d = 0;

	if (a->id != b->id)
		d |= 1u << COL_ID;
	if (!bytes_eq(a->title, a->title_len, b->title, b->title_len))
		d |= 1u << COL_TITLE;
	if ((a->desc == NULL) != (b->desc == NULL) || (a->desc != NULL &&
	    !bytes_eq(a->desc, a->desc_len, b->desc, b->desc_len)))
		d |= 1u << COL_DESCRIPTION;
	if (a->completed != b->completed)
		d |= 1u << COL_COMPLETED;
	if (a->created_us != b->created_us)
		d |= 1u << COL_CREATED_AT;
	if (a->updated_us != b->updated_us)
		d |= 1u << COL_UPDATED_AT;
	return d;
}

size_t
conv_copy_escape(char *dst, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = src[i];

		switch (c) {
		case '\\':
			dst[o++] = '\\';
			dst[o++] = '\\';
			break;
		case '\t':
			dst[o++] = '\\';
			dst[o++] = 't';
			break;
		case '\n':
			dst[o++] = '\\';
			dst[o++] = 'n';
			break;
		case '\r':
			dst[o++] = '\\';
			dst[o++] = 'r';
			break;
		default:
			dst[o++] = c;
		}
	}
	return o;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
conv_copy_unescape(char *s, size_t n, bool *isnull)
{
	size_t i, o = 0;
	int v, k;

	*isnull = n == 2 && s[0] == '\\' && s[1] == 'N';
	if (*isnull)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			s[o++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'b': s[o++] = '\b'; break;
		case 'f': s[o++] = '\f'; break;
		case 'n': s[o++] = '\n'; break;
		case 'r': s[o++] = '\r'; break;
		case 't': s[o++] = '\t'; break;
		case 'v': s[o++] = '\v'; break;
		case 'x':
			if (i + 1 < n && hexval(s[i + 1]) >= 0) {
				v = hexval(s[++i]);
				if (i + 1 < n && hexval(s[i + 1]) >= 0)
					v = v * 16 + hexval(s[++i]);
				s[o++] = (char)v;
			} else
				s[o++] = 'x';
			break;
		default:
			if (s[i] >= '0' && s[i] <= '7') {
				v = s[i] - '0';
				for (k = 1; k < 3 && i + 1 < n &&
				    s[i + 1] >= '0' && s[i + 1] <= '7'; k++)
					v = v * 8 + (s[++i] - '0');
				s[o++] = (char)v;
			} else
				s[o++] = s[i];
		}
	}
	return o;
}

/* Length of the valid UTF-8 sequence at p (0 if none). */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (len > n || !utf8_valid((const char *)p, len))
		return 0;
	return len;
}

void
conv_show(const struct conv_value *v, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)v->p;
	size_t i = 0, o = 0, chars = 0, k;
	int w;

	switch (v->type) {
	case CONV_NULL:
		snprintf(buf, size, "NULL");
		return;
	case CONV_INT:
		snprintf(buf, size, "%lld", (long long)v->i);
		return;
	case CONV_REAL:
		snprintf(buf, size, "%.17g (REAL)", v->r);
		return;
	default:
		break;
	}
	/* Leave room for the longest escape plus the note. */
	while (i < v->n && o + 48 < size && chars < 200) {
		if (p[i] == '\\') {
			buf[o++] = '\\';
			buf[o++] = '\\';
			i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			buf[o++] = (char)p[i++];
		} else if (p[i] >= 0x80 && (k = utf8_seq(p + i, v->n - i)) > 0) {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		} else {
			w = snprintf(buf + o, size - o, "\\x%02X", p[i++]);
			o += (size_t)w;
		}
		chars++;
	}
	buf[o] = '\0';
	if (i < v->n)
		snprintf(buf + o, size - o, "... (%zu bytes in all)", v->n);
	else if (v->type == CONV_BLOB)
		snprintf(buf + o, size - o, " (BLOB)");
}
