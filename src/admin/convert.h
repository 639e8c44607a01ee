/* convert.h - the rules that turn one SQLite todo row (as the Python
 * version stored it, or as other tools wrote it) into PostgreSQL values,
 * or say why it cannot be stored as it is. Shared by import and verify so
 * both apply exactly the same rules.
 *
 * Timestamps: 'YYYY-MM-DD', 'YYYY-MM-DD[ T]HH:MM[:SS[.f{1,9}]]' with an
 * optional 'Z' or +-HH[:MM] offset; values without an offset are read in
 * the source zone. INTEGER epochs (digit text is not one): seconds when
 * |v| < 1e11 (before year 5138), else milliseconds when |v| < 1e14, else
 * rejected. REAL values are rejected (epoch or Julian day is ambiguous).
 * Fractions beyond microseconds are rejected unless the extra digits are
 * zeros. Years 1..9999 only. A local time that does not exist (DST gap)
 * is rejected; an ambiguous one (DST end) takes the offset in force after
 * the transition, as PostgreSQL does. */
#ifndef TODO_CONVERT_H
#define TODO_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* SQLite's storage classes, without depending on sqlite3.h. */
enum conv_type { CONV_NULL, CONV_INT, CONV_REAL, CONV_TEXT, CONV_BLOB };

struct conv_value {
	enum conv_type	 type;
	int64_t		 i;	/* CONV_INT */
	double		 r;	/* CONV_REAL */
	const char	*p;	/* CONV_TEXT, CONV_BLOB (not NUL-terminated) */
	size_t		 n;
};

/* The columns, in source and COPY order. */
enum conv_col { COL_ID, COL_TITLE, COL_DESCRIPTION, COL_COMPLETED,
    COL_CREATED_AT, COL_UPDATED_AT, CONV_NCOLS };
extern const char *const conv_col_names[CONV_NCOLS];

#define CONV_TITLE_MAX		200	/* code points, todos_title_length */
#define CONV_DESCRIPTION_MAX	2000

struct conv_tz {
	enum { TZ_UTC, TZ_FIXED, TZ_NAMED } kind;
	int		 offset_s;	/* TZ_FIXED: east of UTC */
	char		 name[64];	/* as given, for the report */
};

/* "UTC", "Z", "+05:30"/"-0800", or an IANA name found in the zoneinfo
 * directory. A named zone is installed as the process's TZ. */
enum td_status	 conv_tz_parse(const char *s, struct conv_tz *out);

/* One converted row; pointers borrow from the source value. */
struct conv_row {
	int64_t		 id;
	const char	*title;
	size_t		 title_len;
	const char	*desc;		/* NULL when SQL NULL */
	size_t		 desc_len;
	bool		 completed;
	int64_t		 created_us;	/* microseconds since the epoch, UTC */
	int64_t		 updated_us;
};

/* Each returns TD_OK, or TD_EINVAL with *why a static reason. */
enum td_status	 conv_timestamp(const struct conv_value *v,
		    const struct conv_tz *tz, int64_t *us, const char **why);
enum td_status	 conv_bool(const struct conv_value *v, bool *out,
		    const char **why);
/* Valid UTF-8, no NUL, min..max code points (padding counts). */
enum td_status	 conv_text(const struct conv_value *v, bool nullable,
		    size_t min, size_t max, const char **out, size_t *len,
		    const char **why);
enum td_status	 conv_id(const struct conv_value *v, int64_t *out,
		    const char **why);
/* The whole row; on TD_EINVAL *badcol names the first bad column. */
enum td_status	 conv_row(const struct conv_value v[CONV_NCOLS],
		    const struct conv_tz *tz, struct conv_row *out,
		    enum conv_col *badcol, const char **why);

/* "YYYY-MM-DD HH:MM:SS.ffffff+00" (iso = false, PostgreSQL input) or
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ" (iso = true); buf >= 32 bytes. */
void		 conv_format_ts(int64_t us, bool iso, char *buf);

/* Canonical form hashed (BLAKE2b, 16 bytes) for verify: every field
 * length-prefixed, NULL distinct from "", booleans 0/1, timestamps as
 * UTC ISO text with microseconds. */
#define CONV_HASH_LEN 16
void		 conv_row_hash(const struct conv_row *r,
		    unsigned char out[CONV_HASH_LEN]);
/* Bit i set when column i differs. */
unsigned	 conv_row_diff(const struct conv_row *a, const struct conv_row *b);

/* PostgreSQL COPY text format: escape src into dst (room for 2n bytes);
 * returns bytes written. */
size_t		 conv_copy_escape(char *dst, const char *src, size_t n);
/* Decode one COPY text field in place; *isnull for \N. Returns new len. */
size_t		 conv_copy_unescape(char *s, size_t n, bool *isnull);

/* A value shown safely on one line: printable ASCII and valid UTF-8 as
 * is, everything else as \xNN, backslash doubled, cut after ~200 chars
 * with a note. Always NUL-terminates buf (size >= 64). */
void		 conv_show(const struct conv_value *v, char *buf, size_t size);

#endif
