/* session.c - session tokens, cookies, CSRF tokens (libsodium). */
#include "session.h"

#include <stdint.h>
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

/* All ones when lo <= x <= hi, else 0, without a branch on x: a token
 * is a secret, decoded in constant time as libsodium's decoder does. */
static inline uint32_t
in_range(uint32_t x, uint32_t lo, uint32_t hi)
{
	return 0u - (((lo - 1 - x) & (x - hi - 1)) >> 31);
}

/* The 6 bits of base64url character c; *bad gets all ones when c is
 * not one. */
static inline uint32_t
b64url_bits(unsigned char c, uint32_t *bad)
{
	uint32_t x = c, upper = in_range(x, 'A', 'Z'), lower = in_range(x, 'a', 'z'),
	    digit = in_range(x, '0', '9'), minus = in_range(x, '-', '-'),
	    under = in_range(x, '_', '_');

	*bad |= ~(upper | lower | digit | minus | under);
	return ((x - 'A') & upper) | ((x - 'a' + 26) & lower) |
	    ((x - '0' + 52) & digit) | (62 & minus) | (63 & under);
}

bool
session_parse_token(const char *v, unsigned char hash[SESSION_HASH_BYTES])
{
	unsigned char raw[SESSION_TOKEN_BYTES];
	const unsigned char *p = (const unsigned char *)v;
	uint32_t bad = 0, w;
	size_t i, j;

	if (v == NULL || strlen(v) != SESSION_TOKEN_B64_LEN)
		return false;
	/* 40 characters are 30 bytes, the last 3 two more: 18 bits, whose
	 * last 2 must be 0 (43 characters hold 258 bits): one token has one
	 * spelling. */
	for (i = 0, j = 0; i < 40; i += 4, j += 3) {
		w = b64url_bits(p[i], &bad) << 18 | b64url_bits(p[i + 1], &bad) << 12 |
		    b64url_bits(p[i + 2], &bad) << 6 | b64url_bits(p[i + 3], &bad);
		raw[j] = (unsigned char)(w >> 16);
		raw[j + 1] = (unsigned char)(w >> 8);
		raw[j + 2] = (unsigned char)w;
	}
	w = b64url_bits(p[40], &bad) << 12 | b64url_bits(p[41], &bad) << 6 |
	    b64url_bits(p[42], &bad);
	raw[30] = (unsigned char)(w >> 10);
	raw[31] = (unsigned char)(w >> 2);
	bad |= w & 3;
	if (bad != 0) {
		sodium_memzero(raw, sizeof(raw));
		return false;
	}
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
