/*
 * fuzz_convert.c - the SQLite value converters (src/admin/convert.h).
 * Input: a selector byte, then the value (TEXT/BLOB bytes, or the bytes
 * of an INT or REAL). Properties: conv_id, conv_bool and conv_text accept
 * exactly what convert.h says (checked against rules written out here);
 * a timestamp that converts, printed by conv_format_ts (both forms) and
 * read back in any zone, is the same instant, within years 1..9999;
 * conv_copy_unescape(conv_copy_escape(x)) == x and the escaped text holds
 * no raw tab, newline or CR; conv_show stays in its buffer, prints no
 * control byte and, when nothing was cut, reads back to the value; a row
 * that converts converts column by column to the same values. Building
 * and running: docs/fuzzing.md.
 */
#include <string.h>
#include <strings.h>

#include "convert.h"
#include "fuzz.h"
#include "utf8.h"

/* Years 1..9999 in microseconds since 1970. */
#define MIN_US	(-62135596800LL * 1000000)
#define MAX_US	(253402300800LL * 1000000)

static struct conv_tz tzs[3];

static void
check_id(const struct conv_value *v)
{
	int64_t id = 0;
	const char *why = NULL;
	bool want = v->type == CONV_INT && v->i >= 1 && v->i < INT64_MAX;

	CHECK((conv_id(v, &id, &why) == TD_OK) == want);
	if (want)
		CHECK(id == v->i);
	else
		CHECK(why != NULL && *why != '\0');
}

static bool
is_word(const struct conv_value *v, const char *w)
{
	return v->n == strlen(w) && strncasecmp(v->p, w, v->n) == 0;
}

static void
check_bool(const struct conv_value *v)
{
	bool b = false, t, f;
	const char *why = NULL;
	enum td_status rc = conv_bool(v, &b, &why);

	t = (v->type == CONV_INT && v->i == 1) ||
	    (v->type == CONV_TEXT && (is_word(v, "1") || is_word(v, "true")));
	f = (v->type == CONV_INT && v->i == 0) ||
	    (v->type == CONV_TEXT && (is_word(v, "0") || is_word(v, "false")));
	CHECK((rc == TD_OK) == (t || f));
	if (rc == TD_OK)
		CHECK(b == t);
	else
		CHECK(why != NULL && *why != '\0');
}

static void
check_text(const struct conv_value *v, size_t min, size_t max)
{
	const char *out = NULL, *why = NULL;
	size_t len = 0, cps;
	enum td_status rc = conv_text(v, min == 0, min, max, &out, &len, &why);

	if (rc == TD_OK) {
		if (v->type == CONV_NULL) {
			CHECK(min == 0 && out == NULL);
			return;
		}
		CHECK(out != NULL && utf8_valid(out, len));
		CHECK(memchr(out, '\0', len) == NULL);
		cps = utf8_count(out, len);
		CHECK(cps >= min && cps <= max);
	} else {
		CHECK(why != NULL && *why != '\0');
	}
	/* Text that is UTF-8 without NUL and of a fitting length is taken
	 * as it is. */
	if (v->type == CONV_TEXT && utf8_valid(v->p, v->n) &&
	    memchr(v->p, '\0', v->n) == NULL) {
		cps = utf8_count(v->p, v->n);
		CHECK((rc == TD_OK) == (cps >= min && cps <= max));
		if (rc == TD_OK)
			CHECK(len == v->n && (len == 0 || memcmp(out, v->p, len) == 0));
	}
}

static void
check_timestamp(const struct conv_value *v)
{
	struct conv_value again = { .type = CONV_TEXT };
	int64_t us = 0, us2 = 0;
	const char *why = NULL;
	char text[40];
	size_t z, k;

	for (z = 0; z < 3; z++) {
		if (conv_timestamp(v, &tzs[z], &us, &why) != TD_OK) {
			CHECK(why != NULL && *why != '\0');
			continue;
		}
		CHECK(us >= MIN_US && us < MAX_US);
		/* Printed with its offset, it is the same instant anywhere. */
		for (k = 0; k < 2; k++) {
			memset(text, 'x', sizeof(text));
			conv_format_ts(us, k == 1, text);
			CHECK(memchr(text, '\0', 32) != NULL);
			again.p = text;
			again.n = strlen(text);
			CHECK(conv_timestamp(&again, &tzs[(z + 1) % 3], &us2, &why) == TD_OK);
			CHECK(us2 == us);
		}
	}
}

static void
check_copy(const char *s, size_t n)
{
	char *esc = malloc(2 * n + 1);
	size_t m, i, back;
	bool isnull;

	if (esc == NULL)
		abort();
	m = conv_copy_escape(esc, s, n);
	CHECK(m >= n && m <= 2 * n);
	for (i = 0; i < m; i++) {
		CHECK(esc[i] != '\t' && esc[i] != '\n' && esc[i] != '\r');
		if (esc[i] == '\\') {
			CHECK(i + 1 < m && strchr("\\tnr", esc[i + 1]) != NULL &&
			    esc[i + 1] != '\0');
			i++;
		}
	}
	back = conv_copy_unescape(esc, m, &isnull);
	CHECK(!isnull);
	CHECK(back == n && memcmp(esc, s, n) == 0);
	free(esc);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
check_show(const struct conv_value *v, size_t size)
{
	char *buf = malloc(size);
	size_t len, i, k = 0;
	bool cut;

	if (buf == NULL)
		abort();
	conv_show(v, buf, size);
	CHECK(memchr(buf, '\0', size) != NULL);
	len = strlen(buf);
	CHECK(utf8_valid(buf, len));
	for (i = 0; i < len; i++)
		CHECK((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
	if (v->type != CONV_TEXT && v->type != CONV_BLOB) {
		free(buf);
		return;
	}
	cut = strstr(buf, "... (") != NULL;
	/* Read it back: "\\" is a backslash, "\xNN" a byte. */
	for (i = 0; i < len && !cut; i++) {
		char c = buf[i];

		if (c == '\\') {
			CHECK(i + 1 < len);
			if (buf[i + 1] == '\\') {
				i++;
			} else {
				CHECK(buf[i + 1] == 'x' && i + 3 < len + 1 &&
				    hexval(buf[i + 2]) >= 0 && hexval(buf[i + 3]) >= 0);
				c = (char)(hexval(buf[i + 2]) * 16 + hexval(buf[i + 3]));
				i += 3;
			}
		} else if (v->type == CONV_BLOB && strcmp(buf + i, " (BLOB)") == 0) {
			break;
		}
		CHECK(k < v->n && v->p[k] == c);
		k++;
	}
	if (!cut)
		CHECK(k == v->n);
	free(buf);
}

/* Six values cut from the input at 0x01 bytes, each typed by its first
 * byte. */
static void
check_row(const uint8_t *data, size_t size)
{
	struct conv_value v[CONV_NCOLS];
	struct conv_row r;
	enum conv_col bad;
	const char *why = NULL, *s = (const char *)data, *end = s + size, *x;
	size_t c;
	bool b;
	int64_t i64;

	memset(v, 0, sizeof(v));
	for (c = 0; c < CONV_NCOLS; c++) {
		size_t n;

		x = memchr(s, '\x01', (size_t)(end - s));
		n = x != NULL ? (size_t)(x - s) : (size_t)(end - s);
		v[c].type = n > 0 ? (enum conv_type)((unsigned char)s[0] % 5) : CONV_NULL;
		v[c].p = n > 0 ? s + 1 : s;
		v[c].n = n > 0 ? n - 1 : 0;
		if (v[c].type == CONV_INT) {
			memcpy(&v[c].i, v[c].p, v[c].n < 8 ? v[c].n : 8);
			if (v[c].n <= 2)	/* small ones: 0, 1, ids */
				v[c].i = v[c].n == 0 ? 0 : (unsigned char)v[c].p[0] % 4;
		}
		s = x != NULL ? x + 1 : end;
	}
	if (conv_row(v, &tzs[0], &r, &bad, &why) != TD_OK) {
		CHECK((unsigned)bad < CONV_NCOLS && why != NULL);
		return;
	}
	CHECK(conv_id(&v[COL_ID], &i64, &why) == TD_OK && i64 == r.id);
	CHECK(conv_bool(&v[COL_COMPLETED], &b, &why) == TD_OK && b == r.completed);
	CHECK(conv_timestamp(&v[COL_CREATED_AT], &tzs[0], &i64, &why) == TD_OK &&
	    i64 == r.created_us);
	CHECK(utf8_valid(r.title, r.title_len) && r.title_len > 0);
	CHECK(r.desc == NULL || utf8_valid(r.desc, r.desc_len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conv_value v;
	const char *p = (const char *)data + 1;
	size_t n = size > 0 ? size - 1 : 0;

	if (tzs[0].name[0] == '\0' &&
	    (conv_tz_parse("UTC", &tzs[0]) != TD_OK ||
	    conv_tz_parse("+05:30", &tzs[1]) != TD_OK ||
	    conv_tz_parse("America/New_York", &tzs[2]) != TD_OK))
		abort();
	if (size == 0)
		return 0;
	memset(&v, 0, sizeof(v));
	v.p = p;
	v.n = n;
	switch (data[0] % 8) {
	case 0:
		v.type = CONV_NULL;
		break;
	case 1:
		v.type = CONV_INT;
		memcpy(&v.i, p, n < 8 ? n : 8);
		break;
	case 2:
		v.type = CONV_INT;	/* small: near 0, 1 and the epoch bounds */
		v.i = n == 0 ? 0 : (int64_t)(int8_t)p[0] * (n > 1 ? (int64_t)1 << ((unsigned char)p[1] % 48) : 1);
		break;
	case 3:
		v.type = CONV_REAL;
		memcpy(&v.r, p, n < 8 ? n : 8);
		break;
	case 4:
		v.type = CONV_BLOB;
		break;
	case 5:
		check_row(data + 1, n);
		return 0;
	default:
		v.type = CONV_TEXT;
		break;
	}
	check_id(&v);
	check_bool(&v);
	check_text(&v, 1, CONV_TITLE_MAX);
	check_text(&v, 0, CONV_DESCRIPTION_MAX);
	check_timestamp(&v);
	if (v.type == CONV_TEXT || v.type == CONV_BLOB)
		check_copy(v.p, v.n);
	check_show(&v, 64 + (size_t)data[0]);
	return 0;
}
