/* etag.c - see etag.h. */
#include "etag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "reltime.h"
#include "store.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define DIGEST_BYTES 16
_Static_assert(ETAG_SIZE == 3 + 22 + 2, "W/\" + base64url of 16 bytes + \" + NUL");

static unsigned char build_id[ETAG_BUILD_BYTES];

/* XXH3-128 (xxHash >= 0.8, whose XXH3 output is frozen): a tag only has
 * to change when the page does, and nobody gains by making two of their
 * own pages collide, so a cryptographic hash buys nothing here; XXH3
 * costs about an instruction a byte, BLAKE2b five. The fields are
 * gathered in one buffer and hashed in one call (XXH3_128bits(): no
 * state, whose type is opaque to a program linked to the shared library,
 * so the streaming API would cost a malloc). Longer input is chained:
 * a full buffer's digest starts the buffer again. */
struct hasher {
	size_t n;
	unsigned char buf[16384];
};

static void
h_init(struct hasher *h)
{
	h->n = 0;
}

static void
h_digest(const struct hasher *h, unsigned char out[DIGEST_BYTES])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(h->buf, h->n));
	memcpy(out, c.digest, DIGEST_BYTES);
}

/* More than the buffer holds: fill it, chain, go on. */
static void
h_spill(struct hasher *h, const unsigned char *s, size_t n)
{
	size_t k;

	while (n > sizeof(h->buf) - h->n) {
		k = sizeof(h->buf) - h->n;
		memcpy(h->buf + h->n, s, k);
		s += k;
		n -= k;
		h->n = sizeof(h->buf);
		h_digest(h, h->buf);
		h->n = DIGEST_BYTES;
	}
	memcpy(h->buf + h->n, s, n);
	h->n += n;
}

static inline void
h_bytes(struct hasher *h, const void *p, size_t n)
{
	if (n > sizeof(h->buf) - h->n) {
		h_spill(h, p, n);
		return;
	}
	memcpy(h->buf + h->n, p, n);
	h->n += n;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_HOST 1
#else
#define LITTLE_ENDIAN_HOST 0
#endif

/* Little-endian, so that hosts of one deploy agree whatever they run on
 * (one store where the machine is: most of a page's fields are numbers). */
static inline void
h_u64(struct hasher *h, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	h_bytes(h, &v, 8);
#else
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	h_bytes(h, b, 8);
#endif
}

/* Length first, so that fields cannot run into each other; NULL is a
 * length no string has ("no description" is not ""). */
static inline void
h_str(struct hasher *h, const char *s)
{
	size_t n;

	if (s == NULL) {
		h_u64(h, UINT64_MAX);
		return;
	}
	n = strlen(s);
	h_u64(h, n);
	h_bytes(h, s, n);
}

/* h_str() of s, n bytes long (NULL: none). */
static inline void
h_strn(struct hasher *h, const char *s, size_t n)
{
	if (s == NULL) {
		h_u64(h, UINT64_MAX);
		return;
	}
	h_u64(h, n);
	h_bytes(h, s, n);
}

static void
h_final(struct hasher *h, unsigned char *out, size_t n)
{
	unsigned char d[DIGEST_BYTES];

	h_digest(h, d);
	memcpy(out, d, n);
}

/* A whole file into the hash; false with errno on a read error. */
static int
h_file(struct hasher *h, const char *path)
{
	unsigned char b[65536];
	ssize_t n;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while ((n = read(fd, b, sizeof(b))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			errno = e;
			return 0;
		}
		h_bytes(h, b, (size_t)n);
	}
	close(fd);
	return 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum td_status
etag_build_id(const char *template_dir, const char *static_url,
    unsigned char out[ETAG_BUILD_BYTES], char *err, size_t errlen)
{
	struct hasher h;
	struct dirent *de;
	char **names = NULL, **np, path[4096];
	size_t n = 0, cap = 0, i, len;
	enum td_status rc = TD_ESYSTEM;
	DIR *d;

	h_init(&h);
	h_str(&h, PACKAGE_VERSION);
	/* The code renders too (URLs, wordings): any other build is another
	 * identity. Without /proc the version has to do. */
	h_str(&h, "exe");
	if (!h_file(&h, "/proc/self/exe"))
		h_str(&h, "unreadable");
	h_str(&h, static_url);
	if ((d = opendir(template_dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", template_dir, strerror(errno));
		return TD_ESYSTEM;
	}
	/* The files tmpl_load_dir() compiles, in an order every host shares. */
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((np = realloc(names, cap * sizeof(*np))) == NULL)
				goto nomem;
			names = np;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", template_dir,
		    names[i]) >= sizeof(path) || !h_file(&h, path)) {
			snprintf(err, errlen, "%s/%s: %s", template_dir, names[i],
			    strerror(errno));
			goto out;
		}
		h_str(&h, names[i]);     /* after the text: its end */
	}
	h_final(&h, out, ETAG_BUILD_BYTES);
	rc = TD_OK;
	goto out;
nomem:
	snprintf(err, errlen, "%s: out of memory", template_dir);
	rc = TD_ENOMEM;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

void
etag_set_build(const unsigned char id[ETAG_BUILD_BYTES])
{
	memcpy(build_id, id, sizeof(build_id));
}

/* The 16 bytes as 22 base64url characters (RFC 4648 5, no padding). */
static void
b64url(char *out, const unsigned char d[DIGEST_BYTES])
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t v;
	size_t i;

	for (i = 0; i + 3 <= DIGEST_BYTES; i += 3) {
		v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		*out++ = abc[v >> 18];
		*out++ = abc[v >> 12 & 63];
		*out++ = abc[v >> 6 & 63];
		*out++ = abc[v & 63];
	}
	v = (uint32_t)d[i] << 16;       /* the 16th byte */
	*out++ = abc[v >> 18];
	*out = abc[v >> 12 & 63];
}

void
etag_list_page(char out[ETAG_SIZE], const char *csrf, const char *view,
    const struct todo_page *page, const struct reltime_at *now)
{
	unsigned char d[DIGEST_BYTES];
	struct hasher h;
	size_t i;

	h_init(&h);
	h_bytes(&h, build_id, sizeof(build_id));
	h_str(&h, csrf);
	h_str(&h, view);
	h_str(&h, page->email);
	h_u64(&h, page->n);
	h_u64(&h, (uint64_t)page->active);
	h_u64(&h, (uint64_t)page->completed);
	h_u64(&h, (uint64_t)page->total);
	h_u64(&h, (uint64_t)page->before);
	h_u64(&h, (uint64_t)page->has_older << 1 | (uint64_t)page->has_newer);
	h_u64(&h, (uint64_t)(int64_t)page->now_off);
	for (i = 0; i < page->n; i++) {
		const struct todo *t = &page->items[i];
		struct reltime_at at = { t->created_us, t->created_off };
		uint64_t w[5];
		size_t tn = t->title != NULL ? t->title_n : 0,
		    dn = t->description != NULL ? t->description_n : 0;

		/* "5 minutes ago" moves with the clock: the words (by their
		 * key: formatting them cost more than the rest of the row), not
		 * now. */
		w[0] = (uint64_t)t->id;
		w[1] = (uint64_t)t->created_us;
		/* the offset's 32 bits, completed, the key's 24 bits */
		w[2] = (uint64_t)(uint32_t)t->created_off << 1 | t->completed |
		    (uint64_t)reltime_relative_key(&at, now) << 33;
		w[3] = t->title != NULL ? t->title_n : UINT64_MAX;
		w[4] = t->description != NULL ? t->description_n : UINT64_MAX;
		/* As h_u64() and h_strn() would put them, into room checked
		 * once for the row. */
		if (sizeof(w) + tn + dn > sizeof(h.buf) - h.n ||
		    t->title == NULL || !LITTLE_ENDIAN_HOST) {
			h_u64(&h, w[0]);
			h_u64(&h, w[1]);
			h_u64(&h, w[2]);
			h_strn(&h, t->title, t->title_n);
			h_strn(&h, t->description, t->description_n);
			continue;
		}
		memcpy(h.buf + h.n, w, 32);
		memcpy(h.buf + h.n + 32, t->title, tn);
		h.n += 32 + tn;
		memcpy(h.buf + h.n, &w[4], 8);
		if (dn != 0)
			memcpy(h.buf + h.n + 8, t->description, dn);
		h.n += 8 + dn;
	}
	h_final(&h, d, sizeof(d));
	memcpy(out, "W/\"", 3);
	b64url(out + 3, d);
	out[ETAG_SIZE - 2] = '"';
	out[ETAG_SIZE - 1] = '\0';
}

/* OWS: spaces and tabs. */
static const char *
ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool
etag_matches(const char *v, const char *etag)
{
	const char *p, *tag, *want;
	size_t want_len;
	bool matched = false;

	if (v == NULL || etag == NULL || strnlen(v, ETAG_LIST_MAX + 1) > ETAG_LIST_MAX)
		return false;
	/* Weak comparison: the opaque tags, quotes included. */
	want = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
	want_len = strlen(want);
	p = ows(v);
	if (*p == '*')
		return *ows(p + 1) == '\0';
	for (;;) {
		p = ows(p);
		if (*p == '\0')
			return matched;
		if (*p == ',') {           /* empty list elements are allowed */
			p++;
			continue;
		}
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return false;
		tag = p++;
		/* etagc: %x21 / %x23-7E / obs-text */
		while (*p == 0x21 || ((unsigned char)*p >= 0x23 && (unsigned char)*p != 0x7f))
			p++;
		if (*p != '"')
			return false;
		p++;
		if ((size_t)(p - tag) == want_len && memcmp(tag, want, want_len) == 0)
			matched = true;
		p = ows(p);
		if (*p != ',' && *p != '\0')
			return false;
	}
}
