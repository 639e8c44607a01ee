/* session.h - session tokens, their cookies and CSRF tokens, without the
 * database (issue 8: not used by a route yet).
 *
 * A session token is 32 random bytes (libsodium's CSPRNG), sent as 43
 * characters of base64url without padding in a cookie; the server keeps
 * only its SHA-256, so a copy of the sessions table signs nobody in. The
 * cookie is HttpOnly, SameSite=Lax, Path=/; with config's cookie_secure
 * (staging, production) also Secure under the __Host- name, which the
 * browser refuses unless Secure, Path=/ and no Domain. Plain-HTTP
 * development needs the unprefixed name: browsers drop Secure cookies set
 * over http.
 *
 * CSRF: a form's token is base64url(BLAKE2b-256(key: the session token's
 * hash, message: "csrf")), so it needs no storage, is the same on every
 * page of one session and differs between sessions. The sign-in and
 * sign-up forms have no session yet: they get a pre-session cookie (a
 * token made by session_new_token() under presession_cookie_name()) and a
 * form token derived from its hash the same way. Someone holding a copy of
 * the sessions table could compute a live session's form token; the
 * Origin/Sec-Fetch-Site check and SameSite=Lax still stand in the way. */
#ifndef TODO_SESSION_H
#define TODO_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define SESSION_TOKEN_BYTES	32
#define SESSION_TOKEN_B64_LEN	43	/* base64url of 32 bytes, no padding */
#define SESSION_HASH_BYTES	32	/* SHA-256 */
#define CSRF_TOKEN_LEN		43	/* base64url of BLAKE2b-256 */
/* Set-Cookie values fit in this (name, token, attributes). */
#define SESSION_COOKIE_MAX	160

/* A new token for the cookie and its hash for the database; TD_ESYSTEM
 * only when libsodium cannot start. */
enum td_status session_new_token(char token_b64[SESSION_TOKEN_B64_LEN + 1],
    unsigned char hash[SESSION_HASH_BYTES]);
/* True and the hash when cookie_value (NULL: no cookie) is a well-formed
 * token: exactly 43 base64url characters decoding to 32 bytes. Anything
 * else is false: no session, never an error. */
bool session_parse_token(const char *cookie_value,
    unsigned char hash[SESSION_HASH_BYTES]);

/* "__Host-session" when secure, "session" otherwise. */
const char *session_cookie_name(bool secure);
/* "__Host-presession" / "presession": the sign-in forms' cookie. */
const char *presession_cookie_name(bool secure);
/* The Set-Cookie value "NAME=TOKEN; Max-Age=N; Path=/; HttpOnly;
 * SameSite=Lax[; Secure]" into out; token NULL: the deletion form
 * ("NAME=; Max-Age=0; ..."). TD_ETOOBIG when it does not fit. */
enum td_status session_cookie_header(char *out, size_t outlen,
    const char *name, const char *token, long max_age, bool secure);

/* The form token of a session (or pre-session), NUL-terminated. */
void csrf_token_for(const unsigned char session_hash[SESSION_HASH_BYTES],
    char out[CSRF_TOKEN_LEN + 1]);
/* got (len bytes, from the form) is expected, compared in constant time
 * once the lengths agree. */
bool csrf_check(const char *expected, const char *got, size_t len);

#endif
