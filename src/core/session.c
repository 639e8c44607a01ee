/* session.c - session tokens, cookies, CSRF tokens (libsodium). */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

enum td_status
session_new_token(char token_b64[SESSION_TOKEN_B64_LEN + 1],
    unsigned char hash[SESSION_HASH_BYTES])
{
	unsigned char raw[SESSION_TOKEN_BYTES];

	/* Idempotent; the worker has run it already. */
	if (sodium_init() < 0)
		return TD_ESYSTEM;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token_b64, SESSION_TOKEN_B64_LEN + 1, raw, sizeof(raw), B64);
	/* The hash of the bytes, not of the text: one token, one hash. */
	crypto_hash_sha256(hash, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return TD_OK;
}

bool
session_parse_token(const char *v, unsigned char hash[SESSION_HASH_BYTES])
{
	unsigned char raw[SESSION_TOKEN_BYTES];
	const char *end;
	size_t n, i;

	if (v == NULL || strlen(v) != SESSION_TOKEN_B64_LEN)
		return false;
	for (i = 0; i < SESSION_TOKEN_B64_LEN; i++) {
		char c = v[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	/* Also refuses a last character with bits past the 32 bytes set
	 * (43 characters hold 258 bits): one token has one spelling. */
	if (sodium_base642bin(raw, sizeof(raw), v, SESSION_TOKEN_B64_LEN, NULL,
	    &n, &end, B64) != 0 || n != sizeof(raw) ||
	    end != v + SESSION_TOKEN_B64_LEN)
		return false;
	crypto_hash_sha256(hash, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return true;
}

const char *
session_cookie_name(bool secure)
{
	return secure ? "__Host-session" : "session";
}

const char *
presession_cookie_name(bool secure)
{
	return secure ? "__Host-presession" : "presession";
}

enum td_status
session_cookie_header(char *out, size_t outlen, const char *name,
    const char *token, long max_age, bool secure)
{
	int n;

	n = snprintf(out, outlen, "%s=%s; Max-Age=%ld; Path=/; HttpOnly; SameSite=Lax%s",
	    name, token != NULL ? token : "", token != NULL ? max_age : 0L,
	    secure ? "; Secure" : "");
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return TD_ETOOBIG;
	}
	return TD_OK;
}

void
csrf_token_for(const unsigned char session_hash[SESSION_HASH_BYTES],
    char out[CSRF_TOKEN_LEN + 1])
{
	static const unsigned char what[] = "csrf";
	unsigned char mac[32];

	crypto_generichash(mac, sizeof(mac), what, sizeof(what) - 1,
	    session_hash, SESSION_HASH_BYTES);
	sodium_bin2base64(out, CSRF_TOKEN_LEN + 1, mac, sizeof(mac), B64);
}

bool
csrf_check(const char *expected, const char *got, size_t len)
{
	/* The length is no secret: all tokens have the same one. */
	if (expected == NULL || got == NULL || strlen(expected) != len || len == 0)
		return false;
	return sodium_memcmp(expected, got, len) == 0;
}
