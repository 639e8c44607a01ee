/* tmpl.h - Mustache templates: compiled once at start-up, rendered per request.
 *
 * Supported: {{name}} (HTML-escaped), {{{name}}} and {{& name}} (raw),
 * dotted names, {{#section}}...{{/section}} over lists / truthy values /
 * maps, {{^inverted}}...{{/inverted}}, {{! comments }}, {{> partial}} (with
 * the partial's indentation), standalone-line whitespace rules of the spec,
 * and {{=<% %>=}} delimiter changes. Not supported: lambdas.
 *
 * Values are a small tree built per request in the request's arena. A
 * boolean renders as "true" or "false" (aria-pressed="{{completed}}").
 */
#ifndef TODO_TMPL_H
#define TODO_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct arena;
struct buf;

/* ---- values ---- */
enum tv_type { TV_NULL, TV_BOOL, TV_INT, TV_STR, TV_LIST, TV_MAP, TV_RECORDS };

struct tv;                       /* opaque; allocated in an arena */

struct tv *tv_map(struct arena *a);
struct tv *tv_list(struct arena *a);
struct tv *tv_str(struct arena *a, const char *s);      /* not copied */
struct tv *tv_strn(struct arena *a, const char *s, size_t n);
struct tv *tv_bool(struct arena *a, bool v);
struct tv *tv_int(struct arena *a, int64_t v);
struct tv *tv_null(struct arena *a);                   /* falsy, renders "" */
/* Setters return TD_OK or TD_ENOMEM; key is not copied (use literals).
 * Setting a key again replaces its value. */
enum td_status tv_set(struct tv *map, const char *key, struct tv *v);
enum td_status tv_set_str(struct tv *map, const char *key, const char *s);
enum td_status tv_set_bool(struct tv *map, const char *key, bool v);
enum td_status tv_set_int(struct tv *map, const char *key, int64_t v);
enum td_status tv_push(struct tv *list, struct tv *v);

/* A list of C structs read through a field table: a section over it
 * renders once per struct, and {{name}} inside reads the field `name`
 * straight from the struct, so the rows of a page need no map each (a
 * table is static, one per kind of row). A NULL string field is null.
 * The structs are not copied: they must live until rendered. */
enum tv_field_type { TVF_STR, TVF_INT, TVF_BOOL, TVF_TEXT };
/* A TVF_TEXT field: a string and its length, so that rendering it
 * measures nothing (s NULL: null; n bytes at s, no NUL needed). */
struct tv_text {
	const char *s;
	size_t n;
};
struct tv_field {
	const char *name;
	enum tv_field_type type;
	size_t offset;           /* offsetof(struct row, member) */
};
struct tv *tv_records(struct arena *a, const void *base, size_t n, size_t size,
    const struct tv_field *fields, size_t nfields);

/* ---- templates ---- */
struct tmpl_set;                 /* every template of one directory */

/* Compile every *.html file in dir; a template's name is its file name
 * without ".html" (partials use the same names). On error returns
 * TD_EINVAL and writes "file:line: what" into err. */
enum td_status tmpl_load_dir(const char *dir, struct tmpl_set **out,
    char *err, size_t errlen);
/* Compile one template from memory (used by tests and tmpl_load_dir). */
enum td_status tmpl_add(struct tmpl_set *set, const char *name,
    const char *src, size_t len, char *err, size_t errlen);
struct tmpl_set *tmpl_set_new(void);
void tmpl_set_free(struct tmpl_set *set);

/* Render template `name` with `ctx` (a TV_MAP) appended to out.
 * TD_ENOTFOUND if there is no such template, TD_ENOMEM on arena cap. */
enum td_status tmpl_render(const struct tmpl_set *set, const char *name,
    const struct tv *ctx, struct buf *out);

#endif
