/* buf.h - growable byte buffer living in an arena (response bodies, SQL
 * text, rendered templates). A failed append leaves the buffer marked
 * failed; check buf_ok() once at the end instead of after every call. */
#ifndef TODO_BUF_H
#define TODO_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct arena;

struct buf {
	struct arena *arena;
	char *data;        /* always NUL-terminated when ok */
	size_t len;
	size_t cap;
	bool failed;
};

void buf_init(struct buf *b, struct arena *a);
/* Make room for n more bytes now, so later appends need not grow it.
 * False (and the buffer failed) when the arena cannot give them. */
bool buf_reserve(struct buf *b, size_t n);
/* The growing half of buf_ensure(), out of line: grows by doubling. */
bool buf_grow(struct buf *b, size_t n);
/* Room for n more bytes and the NUL, by doubling (buf_reserve takes n
 * as is): a caller that checked once may then write n bytes at
 * data + len itself, set len and the NUL. Inline: checked once a row. */
static inline bool
buf_ensure(struct buf *b, size_t n)
{
	return (!b->failed && n < b->cap - b->len) || buf_grow(b, n);
}
/* The growing half of buf_append(), out of line. */
void buf_append_grow(struct buf *b, const char *s, size_t n);
/* Inline: a page appends some 2,000 pieces, nearly all into room the
 * buffer already has (cap > len whenever cap != 0). */
static inline void
buf_append(struct buf *b, const char *s, size_t n)
{
	if (!b->failed && n < b->cap - b->len) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else {
		buf_append_grow(b, s, n);
	}
}
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append v in decimal (printf's "%" PRId64, without printf's cost). */
void buf_put_i64(struct buf *b, int64_t v);
/* Append s with HTML's five special characters escaped. */
void buf_append_html(struct buf *b, const char *s, size_t n);
/* The same written at d, which has room for 6 * n + 24 bytes (stores
 * run past the end into it); returns the end, no NUL written. For a
 * caller that made room for a whole row once (tmpl.c). */
char *buf_html_into(char *d, const char *s, size_t n);
/* Append s percent-encoded for a URL query component. */
void buf_append_urlenc(struct buf *b, const char *s, size_t n);
/* Inline: renderers check it once per emitted piece. */
static inline bool
buf_ok(const struct buf *b)
{
	return !b->failed;
}

#endif
