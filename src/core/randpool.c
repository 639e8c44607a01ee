/* randpool.c - see randpool.h. */
#include "randpool.h"

#include <string.h>

#include <sodium.h>

void
randpool_init(struct randpool *p)
{
	p->next = sizeof(p->buf);
}

void
randpool_bytes(struct randpool *p, void *out, size_t n)
{
	if (n > sizeof(p->buf)) {
		randombytes_buf(out, n);     /* not a small draw: straight through */
		return;
	}
	if (n > sizeof(p->buf) - p->next) {
		randombytes_buf(p->buf, sizeof(p->buf));
		p->next = 0;
	}
	memcpy(out, p->buf + p->next, n);
	sodium_memzero(p->buf + p->next, n);
	p->next += n;
}

void
uuid_v4_text(const unsigned char r[16], char out[UUID_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	char *o = out;
	unsigned char b;
	int i;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		b = r[i];
		if (i == 6)
			b = (unsigned char)((b & 0x0f) | 0x40);    /* version 4 */
		else if (i == 8)
			b = (unsigned char)((b & 0x3f) | 0x80);    /* variant 10 */
		*o++ = hex[b >> 4];
		*o++ = hex[b & 15];
	}
	*o = '\0';
}

void
randpool_uuid(struct randpool *p, char out[UUID_TEXT_LEN + 1])
{
	unsigned char r[16];

	randpool_bytes(p, r, sizeof(r));
	uuid_v4_text(r, out);
	sodium_memzero(r, sizeof(r));
}
