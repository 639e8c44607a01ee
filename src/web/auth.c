/* auth.c - sign-up, sign-in and sign-out: see auth.h. */
#include "auth.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "email.h"
#include "form.h"
#include "log.h"
#include "password.h"
#include "request.h"
#include "response.h"
#include "session.h"
#include "store.h"
#include "tmpl.h"

/* One message for an unknown email and a wrong password. */
#define WRONG "Wrong email or password."

/* A sign-in or sign-up form as shown: what was typed (never the
 * password) and what is wrong with it. */
struct auth_form {
	const char *email_value;
	const char *email_error;
	const char *password_error;
	const char *form_error;       /* about the whole form */
	const char *return_to;        /* sign-in only */
};

/* A same-site path to go to after signing in, or "/todos": a path of
 * printable ASCII, not "//host" or "/\host" (which browsers read as
 * another site), not the sign-in pages themselves. */
static const char *
safe_return_to(const char *raw)
{
	size_t i, n;

	if (raw == NULL || raw[0] != '/' || raw[1] == '/' || raw[1] == '\\')
		return "/todos";
	if ((n = strlen(raw)) > 1024)
		return "/todos";
	for (i = 0; i < n; i++)
		if ((unsigned char)raw[i] < 0x21 || (unsigned char)raw[i] >= 0x7f ||
		    raw[i] == '\\')
			return "/todos";
	if (strncmp(raw, "/login", 6) == 0 || strncmp(raw, "/signup", 7) == 0 ||
	    strncmp(raw, "/logout", 7) == 0)
		return "/todos";
	return raw;
}

static void
render_form(struct ctx *c, int status, const char *name,
    const struct auth_form *f)
{
	struct tv *v = app_page_values(c,
	    strcmp(name, "login") == 0 ? "Sign in" : "Create an account");

	if (v == NULL) {
		app_fail(c, TD_ENOMEM);
		return;
	}
	tv_set_str(v, "email_value", f->email_value != NULL ? f->email_value : "");
	if (f->email_error != NULL)
		tv_set_str(v, "email_error", f->email_error);
	if (f->password_error != NULL)
		tv_set_str(v, "password_error", f->password_error);
	if (f->form_error != NULL)
		tv_set_str(v, "form_error", f->form_error);
	if (f->return_to != NULL && strcmp(f->return_to, "/todos") != 0)
		tv_set_str(v, "return_to", f->return_to);
	/* Focus where the person has to act next. */
	tv_set_bool(v, "focus_password", f->email_error == NULL &&
	    f->email_value != NULL && f->email_value[0] != '\0');
	tv_set_bool(v, "focus_email", !(f->email_error == NULL &&
	    f->email_value != NULL && f->email_value[0] != '\0'));
	if (status == 200)
		app_take_flash(c, v);
	app_render(c, status, name, v);
}

/* A new session token and its store_session; false (answered 500) when
 * libsodium cannot give one. */
static bool
new_session(struct ctx *c, char token[SESSION_TOKEN_B64_LEN + 1],
    struct store_session *s)
{
	const struct config *cfg = c->app->cfg;
	unsigned char hash[SESSION_HASH_BYTES];

	if (session_new_token(token, hash) != TD_OK) {
		log_error("no random bytes for a session token");
		app_fail(c, TD_EINTERNAL);
		return false;
	}
	store_session_init(s, hash, cfg->session_idle, cfg->session_max,
	    cfg->session_touch);
	return true;
}

/* The argon2id hash of a new password; false (answered 503) when its
 * 19 MiB could not be had. */
static bool
hash_password(struct ctx *c, const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (password_hash(pw, strlen(pw), out) == TD_OK)
		return true;
	log_error("password hash: out of memory");
	response_header(c->resp, "Retry-After", "5");
	app_error(c->app, c->arena, c->resp, 503,
	    "The server is too busy to set a password right now. Please try again in a moment.");
	return false;
}

void
auth_signup_form(struct ctx *c)
{
	struct auth_form f = { 0 };

	render_form(c, 200, "signup", &f);
}

void
auth_signup(struct ctx *c)
{
	const char *pw = form_get(&c->req->body, "password", NULL), *why;
	char email[EMAIL_MAX_BYTES + 1], hash[crypto_pwhash_STRBYTES];
	char token[SESSION_TOKEN_B64_LEN + 1];
	struct auth_form f = { 0 };
	struct store_session ns;
	enum td_status rc;

	f.email_value = form_get(&c->req->body, "email", NULL);
	if (email_normalize(f.email_value, email, sizeof(email), &why) != TD_OK)
		f.email_error = why;
	if (pw == NULL)
		pw = "";
	switch (password_check(pw, strlen(pw), f.email_error == NULL ? email : NULL, &why)) {
	case TD_OK:
		break;
	case TD_EINVAL:
		f.password_error = why;
		break;
	default:
		log_error("sign-up: %s", why);
		app_fail(c, TD_EINTERNAL);
		return;
	}
	if (f.email_error != NULL || f.password_error != NULL) {
		render_form(c, 422, "signup", &f);
		return;
	}
	if (!hash_password(c, pw, hash) || !new_session(c, token, &ns))
		return;
	rc = store_signup(c->app->db, email, hash, &ns, c->req->user_agent);
	if (rc == TD_ECONFLICT) {
		f.email_error = "An account with this email already exists. Sign in instead, or use another email.";
		render_form(c, 422, "signup", &f);
		return;
	}
	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	log_info("sign-up: new account %s from %s", email, c->req->remote_addr);
	/* The browser's earlier session (another account) ends with it. */
	if (c->who != NULL && store_end_session(c->app->db, c->who) != TD_OK)
		log_warn("sign-up: the browser's previous session could not be ended now; it expires on its own");
	app_session_cookie(c, token);
	app_clear_presession(c);
	app_redirect(c, "welcome", "/todos");
}

void
auth_login_form(struct ctx *c)
{
	struct auth_form f = { 0 };

	f.return_to = safe_return_to(form_get(&c->req->query, "return_to", NULL));
	render_form(c, 200, "login", &f);
}

void
auth_login(struct ctx *c)
{
	const struct config *cfg = c->app->cfg;
	const struct login_limits lim = { cfg->login_window,
	    cfg->login_max_failures, cfg->login_max_address_failures };
	const char *pw = form_get(&c->req->body, "password", NULL), *why;
	const char *hash = NULL, *addr = c->req->remote_addr;
	char email[EMAIL_MAX_BYTES + 1], rehash[crypto_pwhash_STRBYTES];
	char token[SESSION_TOKEN_B64_LEN + 1];
	struct auth_form f = { 0 };
	struct store_session ns;
	enum td_status rc;
	int64_t user_id;
	bool disabled, ok, upgrade;
	int wait;

	f.email_value = form_get(&c->req->body, "email", NULL);
	f.return_to = safe_return_to(form_get(&c->req->body, "return_to", NULL));
	if (email_normalize(f.email_value, email, sizeof(email), &why) != TD_OK)
		f.email_error = why;
	if (pw == NULL || pw[0] == '\0')
		f.password_error = "Please enter your password.";
	if (f.email_error != NULL || f.password_error != NULL) {
		render_form(c, 422, "login", &f);
		return;
	}
	if ((rc = store_login_lookup(c->app->db, c->arena, email, addr, &lim,
	    &wait, &user_id, &hash, &disabled)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	if (wait > 0) {
		/* Before any hashing: a throttled guess costs us nothing. */
		log_warn("sign-in throttled for %s from %s: %d s to wait", email, addr, wait);
		response_header(c->resp, "Retry-After", arena_printf(c->arena, "%d", wait));
		f.form_error = wait > 90 ?
		    arena_printf(c->arena, "Too many failed sign-ins. Please wait %d minutes and try again.", (wait + 59) / 60) :
		    arena_printf(c->arena, "Too many failed sign-ins. Please wait %d seconds and try again.", wait);
		render_form(c, 429, "login", &f);
		return;
	}
	/* Over the policy's length no password was ever set: do not spend a
	 * hash on it, but answer as for any wrong password. */
	if (strlen(pw) > PASSWORD_MAX_BYTES)
		ok = false;
	else if (user_id != 0)
		ok = password_verify(hash, pw, strlen(pw));
	else
		ok = password_verify_dummy(pw, strlen(pw));   /* same time */
	if (!ok) {
		log_warn("sign-in failed for %s from %s: %s", email, addr,
		    user_id != 0 ? "wrong password" : "no such account");
		if ((rc = store_login_failed(c->app->db, email, addr, &lim)) != TD_OK)
			log_error("sign-in: the failure could not be counted: %s", td_strerror(rc));
		f.form_error = WRONG;
		render_form(c, 422, "login", &f);
		return;
	}
	if (disabled) {
		log_warn("sign-in refused for %s from %s: account disabled", email, addr);
		f.form_error = "This account is disabled. Please contact the administrator.";
		render_form(c, 403, "login", &f);
		return;
	}
	/* Hashes made with weaker parameters are replaced now that we have
	 * the password. */
	upgrade = password_needs_rehash(hash) &&
	    password_hash(pw, strlen(pw), rehash) == TD_OK;
	if (!new_session(c, token, &ns))
		return;
	if ((rc = store_session_start(c->app->db, user_id, &ns, c->req->user_agent,
	    c->who, upgrade ? rehash : NULL)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	log_info("sign-in: %s from %s%s", email, addr, upgrade ? " (password re-hashed)" : "");
	app_session_cookie(c, token);
	app_clear_presession(c);
	app_redirect(c, NULL, f.return_to);
}

void
auth_logout(struct ctx *c)
{
	enum td_status rc = store_end_session(c->app->db, c->who);

	if (rc != TD_OK) {
		app_fail(c, rc);     /* not signed out: say so, keep the cookie */
		return;
	}
	app_session_cookie(c, NULL);
	app_redirect(c, "signed_out", "/login");
}
