/* account.h - the account page and what it offers (docs/accounts.md):
 * sessions, password change, account deletion, exports. The password
 * forms take two round trips (the hash, then the change, which happens
 * only if the hash is still the one checked); everything else one. */
#ifndef TODO_ACCOUNT_H
#define TODO_ACCOUNT_H

struct ctx;

void account_page(struct ctx *c);         /* GET  /account */
void account_end_sessions(struct ctx *c); /* POST /account/sessions/revoke */
void account_password(struct ctx *c);     /* POST /account/password */
void account_delete(struct ctx *c);       /* POST /account/delete */
void account_export_json(struct ctx *c);  /* GET  /account/export.json */
void account_export_csv(struct ctx *c);   /* GET  /account/export.csv */
void account_time_zone(struct ctx *c);    /* POST /account/time-zone */

#endif
