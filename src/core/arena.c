/* arena.c - see arena.h. Blocks are chained; the first one is kept on reset. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_BLOCK (16 * 1024)

struct block {
	struct block *next;
	size_t size;   /* usable bytes in data[] */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct block *head;   /* current block; older ones follow */
	size_t cap;           /* 0 = unlimited */
	size_t total;         /* bytes of all blocks' data */
	size_t used;          /* bytes handed out */
	void *last;           /* most recent allocation, for in-place realloc */
};

static size_t
align_up(size_t n)
{
	return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

static struct block *
block_new(size_t size)
{
	struct block *b = malloc(sizeof(*b) + size);

	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *
arena_new(size_t cap)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->cap = cap;
	a->head = block_new(ARENA_BLOCK);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	a->total = ARENA_BLOCK;
	return a;
}

static void
free_blocks(struct block *b)
{
	while (b != NULL) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	free_blocks(a->head);
	free(a);
}

void
arena_reset(struct arena *a)
{
	struct block *first = a->head;

	/* The first block allocated is the last in the chain. */
	while (first->next != NULL) {
		struct block *next = first->next;
		free(first);
		first = next;
	}
	first->used = 0;
	a->head = first;
	a->total = first->size;
	a->used = 0;
	a->last = NULL;
}

size_t
arena_used(const struct arena *a)
{
	return a->used;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct block *b = a->head;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / 2)
		return NULL;
	n = align_up(n);
	if (a->cap != 0 && a->used + n > a->cap)
		return NULL;
	if (b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		if (a->cap != 0 && a->total + size > a->cap + ARENA_BLOCK)
			return NULL;
		b = block_new(size);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		a->head = b;
		a->total += size;
	}
	p = b->data + b->used;
	b->used += n;
	a->used += n;
	a->last = p;
	return p;
}

void *
arena_calloc(struct arena *a, size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	p = arena_alloc(a, count * size);
	if (p != NULL)
		memset(p, 0, count * size);
	return p;
}

void *
arena_realloc(struct arena *a, void *old, size_t oldn, size_t newn)
{
	struct block *b = a->head;
	void *p;

	if (old != NULL && old == a->last) {
		size_t off = (size_t)((unsigned char *)old - b->data);
		size_t olda = align_up(oldn ? oldn : 1), newa = align_up(newn ? newn : 1);

		if (newa <= olda || (off + newa <= b->size &&
		    (a->cap == 0 || a->used - olda + newa <= a->cap))) {
			b->used = off + newa;
			a->used = a->used - olda + newa;
			return old;
		}
	}
	p = arena_alloc(a, newn);
	if (p != NULL && old != NULL)
		memcpy(p, old, oldn < newn ? oldn : newn);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list copy;
	int n;
	char *p;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}
