/* auth.h - sign-up, sign-in and sign-out (docs/accounts.md). app.c has
 * checked the pre-session cookie and the form token before these run.
 * Sign-in and sign-up take two round trips (look-up, then the session),
 * with one argon2id hash (about 80 ms of this worker) in between. */
#ifndef TODO_AUTH_H
#define TODO_AUTH_H

struct ctx;

void auth_signup_form(struct ctx *c);   /* GET  /signup */
void auth_signup(struct ctx *c);        /* POST /signup */
void auth_login_form(struct ctx *c);    /* GET  /login */
void auth_login(struct ctx *c);         /* POST /login */
void auth_logout(struct ctx *c);        /* POST /logout */

#endif
