/*
 * fuzz_session.c - session tokens and CSRF tokens (src/core/session.h).
 * Input: bytes taken as a cookie value, a form token, or the 32 bytes of
 * a token, as the first byte chooses. Properties: a cookie value that
 * parses is the one spelling (base64url, no padding) of 32 bytes, and its
 * hash is their SHA-256: a token that verifies was issued (by
 * session_new_token's encoding of those bytes), and every issued token
 * parses back to its hash; csrf_check is true only for the exact token of
 * the session (same length, same bytes), whatever the other bytes; the
 * form token differs between sessions; the cookie header holds the token
 * and no stray ';' or newline. Building and running: docs/fuzzing.md.
 */
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "session.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Issue a token from 32 given bytes the way session_new_token does. */
static void
issue(const unsigned char raw[SESSION_TOKEN_BYTES],
    char tok[SESSION_TOKEN_B64_LEN + 1], unsigned char hash[SESSION_HASH_BYTES])
{
	sodium_bin2base64(tok, SESSION_TOKEN_B64_LEN + 1, raw, SESSION_TOKEN_BYTES, B64);
	crypto_hash_sha256(hash, raw, SESSION_TOKEN_BYTES);
}

static void
check_cookie(const char *v)
{
	unsigned char hash[SESSION_HASH_BYTES], raw[SESSION_TOKEN_BYTES],
	    want[SESSION_HASH_BYTES];
	char again[SESSION_TOKEN_B64_LEN + 1];
	size_t n;

	if (!session_parse_token(v, hash))
		return;
	/* It parsed: it is the encoding of some 32 bytes, exactly. */
	CHECK(strlen(v) == SESSION_TOKEN_B64_LEN);
	CHECK(sodium_base642bin(raw, sizeof(raw), v, strlen(v), NULL, &n,
	    NULL, B64) == 0 && n == sizeof(raw));
	issue(raw, again, want);
	CHECK(strcmp(again, v) == 0);
	CHECK(memcmp(want, hash, sizeof(hash)) == 0);
}

static void
check_issued(const unsigned char raw[SESSION_TOKEN_BYTES])
{
	unsigned char hash[SESSION_HASH_BYTES], got[SESSION_HASH_BYTES],
	    other[SESSION_HASH_BYTES];
	char tok[SESSION_TOKEN_B64_LEN + 1], csrf[CSRF_TOKEN_LEN + 1],
	    csrf2[CSRF_TOKEN_LEN + 1], hdr[SESSION_COOKIE_MAX];
	size_t i;

	issue(raw, tok, hash);
	CHECK(session_parse_token(tok, got));
	CHECK(memcmp(got, hash, sizeof(hash)) == 0);
	csrf_token_for(hash, csrf);
	CHECK(strlen(csrf) == CSRF_TOKEN_LEN);
	CHECK(csrf_check(csrf, csrf, CSRF_TOKEN_LEN));
	/* Another session (one bit of the hash flipped): another token. */
	memcpy(other, hash, sizeof(other));
	other[raw[0] % SESSION_HASH_BYTES] ^= (unsigned char)(1u << (raw[1] % 8));
	csrf_token_for(other, csrf2);
	CHECK(strcmp(csrf, csrf2) != 0);
	CHECK(!csrf_check(csrf, csrf2, CSRF_TOKEN_LEN));
	/* One character changed, or one too few or many: refused. */
	for (i = 0; i < CSRF_TOKEN_LEN; i += 7) {
		memcpy(csrf2, csrf, sizeof(csrf2));
		csrf2[i] = csrf2[i] == 'A' ? 'B' : 'A';
		CHECK(!csrf_check(csrf, csrf2, CSRF_TOKEN_LEN));
	}
	CHECK(!csrf_check(csrf, csrf, CSRF_TOKEN_LEN - 1));
	CHECK(!csrf_check(csrf, csrf, 0));
	CHECK(session_cookie_header(hdr, sizeof(hdr), session_cookie_name(true),
	    tok, 86400, true) == TD_OK);
	CHECK(strstr(hdr, tok) != NULL && strncmp(hdr, "__Host-session=", 15) == 0);
	CHECK(strchr(hdr, '\n') == NULL && strchr(hdr, '\r') == NULL);
	CHECK(strchr(hdr, ';') - hdr == 15 + SESSION_TOKEN_B64_LEN);
}

/* The form token of a session against whatever a form sends. */
static void
check_csrf(const uint8_t *got, size_t n)
{
	unsigned char hash[SESSION_HASH_BYTES];
	char csrf[CSRF_TOKEN_LEN + 1];
	bool ok;

	memset(hash, 0, sizeof(hash));
	if (n > 0)
		memcpy(hash, got, n < sizeof(hash) ? n : sizeof(hash));
	csrf_token_for(hash, csrf);
	/* Against the input itself, and against the true token with the
	 * input's bytes written over its start. */
	ok = csrf_check(csrf, (const char *)got, n);
	CHECK(ok == (n == CSRF_TOKEN_LEN && memcmp(got, csrf, n) == 0));
	if (n > 0 && n <= CSRF_TOKEN_LEN) {
		char mixed[CSRF_TOKEN_LEN];

		memcpy(mixed, csrf, CSRF_TOKEN_LEN);
		memcpy(mixed, got, n);
		ok = csrf_check(csrf, mixed, CSRF_TOKEN_LEN);
		CHECK(ok == (memcmp(got, csrf, n) == 0));
	}
	CHECK(!csrf_check(NULL, (const char *)got, n));
	CHECK(!csrf_check(csrf, NULL, n));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char raw[SESSION_TOKEN_BYTES];
	char *s;

	if (sodium_init() < 0)
		abort();
	if (size == 0)
		return 0;
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		check_cookie(s);
		/* The first 43 bytes alone, where a token would be. */
		if (strlen(s) > SESSION_TOKEN_B64_LEN) {
			s[SESSION_TOKEN_B64_LEN] = '\0';
			check_cookie(s);
		}
		break;
	case 1:
		check_csrf(data + 1, size - 1);
		break;
	default:
		memset(raw, 0, sizeof(raw));
		memcpy(raw, data + 1, size - 1 < sizeof(raw) ? size - 1 : sizeof(raw));
		check_issued(raw);
		break;
	}
	free(s);
	return 0;
}
