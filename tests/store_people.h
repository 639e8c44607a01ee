/* store_people.h - the two people the store tests ask as: "me" (user 1,
 * session hash 32 x 0x01) and "other" (user 2, 32 x 0x02). */
#ifndef TODO_STORE_PEOPLE_H
#define TODO_STORE_PEOPLE_H

#include <libpq-fe.h>

#include "store.h"

/* Empties users, sessions and todos (identities restarted) and makes the
 * two people with a live session each. 0, or -1 with the error printed. */
int store_people_reset(PGconn *admin, struct store_session *me,
    struct store_session *other);

#endif
