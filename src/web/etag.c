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

#include <sodium.h>

#include "reltime.h"
#include "store.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define DIGEST_BYTES 16

static unsigned char build_id[ETAG_BUILD_BYTES];

/* BLAKE2b fed through a small buffer: a page is hundreds of short fields,
 * and one update per field would cost a call (and a check) each. */
struct hasher {
	crypto_generichash_state st;
	size_t n;
	unsigned char buf[1024];
};

static void
h_init(struct hasher *h)
{
	crypto_generichash_init(&h->st, NULL, 0, DIGEST_BYTES);
	h->n = 0;
}

static void
h_flush(struct hasher *h)
{
	crypto_generichash_update(&h->st, h->buf, h->n);
	h->n = 0;
}

static inline void
h_bytes(struct hasher *h, const void *p, size_t n)
{
	if (h->n + n > sizeof(h->buf)) {
		h_flush(h);
		if (n > sizeof(h->buf)) {
			crypto_generichash_update(&h->st, p, n);
			return;
		}
	}
	memcpy(h->buf + h->n, p, n);
	h->n += n;
}

/* Little-endian, so that hosts of one deploy agree whatever they run on
 * (a copy where the machine is: most of a page's fields are numbers). */
static inline void
h_u64(struct hasher *h, uint64_t v)
{
	if (h->n + 8 > sizeof(h->buf))
		h_flush(h);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(h->buf + h->n, &v, 8);
#else
	for (int i = 0; i < 8; i++)
		h->buf[h->n + i] = (unsigned char)(v >> (8 * i));
#endif
	h->n += 8;
}

/* Length first, so that fields cannot run into each other; NULL is a
 * length no string has ("no description" is not ""). */
static void
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

static void
h_final(struct hasher *h, unsigned char *out, size_t n)
{
	if (h->n > 0)
		h_flush(h);
	crypto_generichash_final(&h->st, out, n);
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

void
etag_list_page(char out[ETAG_SIZE], const char *csrf, const char *view,
    const struct todo_page *page, const struct reltime_at *now)
{
	unsigned char d[DIGEST_BYTES];
	char rel[RELTIME_REL_MAX];
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

		/* "5 minutes ago" moves with the clock: the words, not now. */
		reltime_relative(&at, now, rel);
		h_u64(&h, (uint64_t)t->id);
		h_u64(&h, (uint64_t)t->created_us);
		h_u64(&h, (uint64_t)(int64_t)t->created_off << 1 | t->completed);
		h_str(&h, t->title);
		h_str(&h, t->description);
		h_str(&h, rel);
	}
	h_final(&h, d, sizeof(d));
	memcpy(out, "W/\"", 3);
	sodium_bin2base64(out + 3, ETAG_SIZE - 4, d, sizeof(d),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
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
