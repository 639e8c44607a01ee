/* arena.h - per-request bump allocator.
 *
 * Everything a request allocates comes from one arena and is released in one
 * go by arena_reset() when the request ends, so no handler frees anything.
 * An arena has a hard cap: past it allocations return NULL (callers answer
 * with an error page instead of letting one request eat the worker).
 */
#ifndef TODO_ARENA_H
#define TODO_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* cap: most bytes the arena may hold in all (0 = no cap). NULL on ENOMEM. */
struct arena *arena_new(size_t cap);
void arena_free(struct arena *a);
/* Drop every allocation; keeps the first block for the next request. */
void arena_reset(struct arena *a);
/* Bytes currently handed out (for tests and the slow log). */
size_t arena_used(const struct arena *a);

/* Aligned for any type; NULL when the cap is reached or malloc fails. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t count, size_t size);
/* Grow the most recent allocation in place when possible, else copy. */
void *arena_realloc(struct arena *a, void *old, size_t oldn, size_t newn);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
