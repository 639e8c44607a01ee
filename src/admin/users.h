/* users.h - "todoctl user ..." and "todoctl assign-unowned": accounts
 * from the command line (issue 8, docs/accounts.md "Admin commands").
 * Addresses go through email_normalize(), passwords through
 * password_check() and password_hash(); SQL only with parameters. */
#ifndef TODO_USERS_H
#define TODO_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"
#include "status.h"

/* Exit statuses beyond 0 ok, 1 error, 2 usage (todoctl's). */
#define USERS_EXIT_NO_ACCOUNT	9	/* no account has that address */
#define USERS_EXIT_TAKEN	10	/* user add: the address is taken */
#define USERS_EXIT_REFUSED	11	/* the password or address is refused */

#define USERS_USAGE \
	"  user add EMAIL [--password-stdin]\n" \
	"                        create an account (password asked twice\n" \
	"                        without echo, or stdin's first line)\n" \
	"  user list [--json]    accounts: created, disabled, todos, sessions\n" \
	"  user disable EMAIL    no sign-in; its sessions are ended\n" \
	"  user enable EMAIL     allow sign-in again\n" \
	"  user reset-password EMAIL [--password-stdin]\n" \
	"                        set a new password; its sessions are ended\n" \
	"  user delete EMAIL [--yes]\n" \
	"                        delete the account with its todos (asks to\n" \
	"                        type the address unless --yes)\n"
#define ASSIGN_USAGE \
	"  assign-unowned EMAIL  give every todo without an owner to EMAIL\n"

/* argv[0] is the command name. Return the exit status. cfg: the session
 * lifetimes (a session counts as active within them). */
int		 users_main(const struct config *cfg, const char *database_url,
		    int argc, char **argv);
int		 assign_unowned_main(const char *database_url, int argc,
		    char **argv);

/* Shared with import and verify. */
/* db_connect_admin, then refuses a schema without sql/004 (logged).
 * NULL on failure. */
PGconn		*users_connect(const char *database_url, const char *appname);
/* The account id of an address as typed (normalised first); on TD_OK
 * also its normalised form in norm (EMAIL_MAX_BYTES + 1 bytes, may be
 * NULL). TD_ENOTFOUND: no such account or not an address (logged, with
 * the reason); TD_EDB: the query failed (logged). lock: FOR KEY SHARE,
 * so the account cannot be deleted before the transaction ends. */
enum td_status	 users_lookup(PGconn *c, const char *email, bool lock,
		    int64_t *id, char *norm);

#endif
