/* reltime.h - an instant as people in one time zone read it: the local
 * ISO 8601 form for <time datetime>, a local date and time for its title,
 * and a relative wording ("2 hours ago", "yesterday", "29 Nov 2026").
 *
 * No time zone database here: the caller passes the zone's UTC offset at
 * the instant and at "now" (the store gets both from PostgreSQL, which
 * knows the person's zone), so DST and negative offsets are just numbers. */
#ifndef TODO_RELTIME_H
#define TODO_RELTIME_H

#include <stddef.h>
#include <stdint.h>

struct arena;

#define RELTIME_ISO_MAX 32      /* "2026-11-29T10:00:00+01:00" */
#define RELTIME_TITLE_MAX 32    /* "29 Nov 2026, 10:00" */
#define RELTIME_REL_MAX 32      /* "59 minutes ago" */

/* An instant: microseconds since the Unix epoch (UTC) and the person's
 * offset from UTC at that instant, in seconds (east positive). */
struct reltime_at {
	int64_t us;
	int32_t off_s;
};

void reltime_iso(const struct reltime_at *t, char out[RELTIME_ISO_MAX]);
void reltime_title(const struct reltime_at *t, char out[RELTIME_TITLE_MAX]);
/* t relative to now: "just now" (< 1 min, or in the future), "N minutes
 * ago", "N hours ago" (< 24 h), then by local calendar days "yesterday",
 * "N days ago" (< 7), then the local date "29 Nov 2026". */
void reltime_relative(const struct reltime_at *t, const struct reltime_at *now,
    char out[RELTIME_REL_MAX]);
/* A number standing for reltime_relative's words: for one t, two nows give
 * the same number exactly when they give the same words (a date's words
 * follow from t). Below 2^24. Cheaper to digest than the words (etag.c). */
uint32_t reltime_relative_key(const struct reltime_at *t, const struct reltime_at *now);

/* The three in the arena, and their lengths; false when out of memory. */
struct reltime_text {
	const char *iso, *title, *relative;
	size_t iso_n, title_n, relative_n;
};
int reltime_text(struct arena *a, const struct reltime_at *t,
    const struct reltime_at *now, struct reltime_text *out);
/* The same into s, RELTIME_TEXT_BYTES of the caller's (a page's rows
 * take one allocation). */
#define RELTIME_TEXT_BYTES (RELTIME_ISO_MAX + RELTIME_TITLE_MAX + RELTIME_REL_MAX)
void reltime_text_in(char s[RELTIME_TEXT_BYTES], const struct reltime_at *t,
    const struct reltime_at *now, struct reltime_text *out);

#endif
