/* etag.h - conditional requests for the list page (RFC 9110 8.8.3, 13.1.2):
 * an entity tag digested from what the page's HTML depends on, and the
 * If-None-Match check, so that a browser holding the page gets 304 Not
 * Modified without the page being rendered.
 *
 * The tag is weak (W/"..."): two renderings with the same tag differ in
 * the add form's one-time token (a fresh UUID each time; a cached form's
 * older token is unused, or its todo was deleted since, or the counts and
 * so the tag would differ), so they are equivalent, not byte for byte
 * the same.
 * If-None-Match compares weakly anyway, and nginx's gzip weakens tags. */
#ifndef TODO_ETAG_H
#define TODO_ETAG_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct reltime_at;
struct todo_page;

#define ETAG_BUILD_BYTES 16
/* W/" + 22 base64url characters (16 bytes) + " + NUL */
#define ETAG_SIZE 27
/* If-None-Match values longer than this never match. */
#define ETAG_LIST_MAX 1024

/* What renders pages, the same on every host of one deploy: the package
 * version, this executable's bytes, static_url and every *.html of
 * template_dir (name and text, in name order). Run before fork; false
 * and err when the directory cannot be read. */
enum td_status etag_build_id(const char *template_dir, const char *static_url,
    unsigned char out[ETAG_BUILD_BYTES], char *err, size_t errlen);
/* The build identity every tag of this process starts with (set it from
 * the same load as the templates in use; zeros until then). */
void etag_set_build(const unsigned char id[ETAG_BUILD_BYTES]);

/* The list page's tag: the build identity, the session's csrf token, the
 * view's canonical URL (filter, search, cursor), the page's data and each
 * row's relative time as reltime_relative() words it against now. */
void etag_list_page(char out[ETAG_SIZE], const char *csrf, const char *view,
    const struct todo_page *page, const struct reltime_at *now);

/* Whether an If-None-Match value (NULL: none) matches etag: "*", or a
 * comma-separated list of entity tags one of which is etag, compared
 * weakly (W/ ignored). A value that does not parse whole never matches. */
bool etag_matches(const char *if_none_match, const char *etag);

#endif
