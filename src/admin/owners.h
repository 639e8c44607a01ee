/* owners.h - who owns an imported todo: import-sqlite's and
 * verify-sqlite's --owner EMAIL and --user-map FILE.csv (docs/accounts.md
 * "Existing data and imports").
 *
 * The map's lines are "source_user_id,email"; a first line whose second
 * field holds no '@' is a header; blank lines are skipped; a field may be
 * in double quotes (RFC 4180). Source ids are compared as text exactly
 * (an INTEGER user_id as its decimal digits). A row whose user_id is NULL
 * gets --owner (or nobody); a row whose user_id is not in the map is
 * rejected with a reason. */
#ifndef TODO_OWNERS_H
#define TODO_OWNERS_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "convert.h"
#include "status.h"

struct owners;

/* owner and map_path may each be NULL. Reads and checks the map (errors
 * logged with the line: TD_EINVAL) and normalises every address (a bad
 * one is TD_ENOTFOUND: no account can have it). */
enum td_status	 owners_load(const char *owner, const char *map_path,
		    struct owners **out);
void		 owners_free(struct owners *o);
/* Look every address up in users (FOR KEY SHARE when lock: inside the
 * import's transaction). TD_ENOTFOUND when one has no account: each is
 * logged. */
enum td_status	 owners_resolve(struct owners *o, PGconn *c, bool lock);
bool		 owners_has_map(const struct owners *o);
/* --owner's normalised address, or NULL. */
const char	*owners_default(const struct owners *o);

/* The owner of one source row. user: its user_id value, NULL when the
 * source has no such column (or it is ignored). TD_OK: *id (0 = nobody)
 * and *email (NULL = nobody). TD_EINVAL: reject the row, *why says why. */
enum td_status	 owners_of(const struct owners *o,
		    const struct conv_value *user, int64_t *id,
		    const char **email, const char **why);

#endif
