/* randpool.h - random bytes for the many small draws of a worker (the add
 * form's token on every list page), taken from a buffer that libsodium's
 * CSPRNG fills 4 KiB at a time: one getrandom(2) for 256 tokens instead of
 * one each (a system call costs some 1.6 us on the virtual machines we
 * measure on).
 *
 * A pool belongs to the process that made it: make one after fork() (each
 * worker does) and never let a child inherit a filled one, or two
 * processes would hand out the same bytes. The bytes are as unpredictable
 * as libsodium's; what a pool has not handed out yet is in the process's
 * memory, as any key is. */
#ifndef TODO_RANDPOOL_H
#define TODO_RANDPOOL_H

#include <stddef.h>

#define RANDPOOL_BYTES	4096
#define UUID_TEXT_LEN	36	/* 8-4-4-4-12 hex digits */

struct randpool {
	size_t next;                     /* first unused byte of buf */
	unsigned char buf[RANDPOOL_BYTES];
};

/* An empty pool: the first draw fills it. */
void randpool_init(struct randpool *p);
/* n (at most RANDPOOL_BYTES) random bytes into out; each byte is handed
 * out once, then wiped from the pool. */
void randpool_bytes(struct randpool *p, void *out, size_t n);
/* A random (version 4) UUID as lower-case text, NUL-terminated. */
void randpool_uuid(struct randpool *p, char out[UUID_TEXT_LEN + 1]);
/* The text of the UUID whose 16 bytes are r, marked version 4 (RFC 9562). */
void uuid_v4_text(const unsigned char r[16], char out[UUID_TEXT_LEN + 1]);

#endif
