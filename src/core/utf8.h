/* utf8.h - strict UTF-8 validation and counting (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF). */
#ifndef TODO_UTF8_H
#define TODO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid(const char *s, size_t n);
/* Code points in s; s must be valid UTF-8. */
size_t utf8_count(const char *s, size_t n);

#endif
