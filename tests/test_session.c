/* test_session.c - session tokens, cookies, CSRF tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "session.h"

static void
test_token_round_trip(void **state)
{
	char tok[SESSION_TOKEN_B64_LEN + 1], tok2[SESSION_TOKEN_B64_LEN + 1];
	unsigned char h[SESSION_HASH_BYTES], h2[SESSION_HASH_BYTES],
	    parsed[SESSION_HASH_BYTES];

	(void)state;
	assert_int_equal(session_new_token(tok, h), TD_OK);
	assert_int_equal(strlen(tok), SESSION_TOKEN_B64_LEN);
	assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	    SESSION_TOKEN_B64_LEN);
	assert_true(session_parse_token(tok, parsed));
	assert_memory_equal(parsed, h, sizeof(h));

	assert_int_equal(session_new_token(tok2, h2), TD_OK);
	assert_string_not_equal(tok, tok2);
	assert_memory_not_equal(h, h2, sizeof(h));
}

static void
test_token_rejects(void **state)
{
	char tok[SESSION_TOKEN_B64_LEN + 1], bad[SESSION_TOKEN_B64_LEN + 8];
	unsigned char h[SESSION_HASH_BYTES], out[SESSION_HASH_BYTES];

	(void)state;
	assert_int_equal(session_new_token(tok, h), TD_OK);
	assert_false(session_parse_token(NULL, out));
	assert_false(session_parse_token("", out));
	/* One short, one long, padded. */
	memcpy(bad, tok, SESSION_TOKEN_B64_LEN - 1);
	bad[SESSION_TOKEN_B64_LEN - 1] = '\0';
	assert_false(session_parse_token(bad, out));
	snprintf(bad, sizeof(bad), "%sA", tok);
	assert_false(session_parse_token(bad, out));
	snprintf(bad, sizeof(bad), "%s=", tok);
	assert_false(session_parse_token(bad, out));
	/* Standard base64's alphabet, a space, a dot. */
	memcpy(bad, tok, sizeof(tok));
	bad[5] = '+';
	assert_false(session_parse_token(bad, out));
	bad[5] = '/';
	assert_false(session_parse_token(bad, out));
	bad[5] = ' ';
	assert_false(session_parse_token(bad, out));
	bad[5] = '.';
	assert_false(session_parse_token(bad, out));
	/* Padding inside the length: 42 characters and "=". */
	memcpy(bad, tok, sizeof(tok));
	bad[SESSION_TOKEN_B64_LEN - 1] = '=';
	assert_false(session_parse_token(bad, out));
	/* The last character carries 2 bits past the 32 bytes: set, refused. */
	assert_true(session_parse_token("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", out));
	assert_false(session_parse_token("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", out));
}

/* Every character of the alphabet in every place of the 4-character
 * groups (and the last 3): the hash is that of the bytes libsodium's
 * decoder gives. Every other byte value, in any place, is refused. */
static void
test_token_alphabet(void **state)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char tok[SESSION_TOKEN_B64_LEN + 1];
	unsigned char raw[SESSION_TOKEN_BYTES], want[SESSION_HASH_BYTES],
	    got[SESSION_HASH_BYTES];
	size_t i, k, n;
	int c;

	(void)state;
	assert_true(sodium_init() >= 0);
	for (k = 0; k < 64; k++) {
		for (i = 0; i < SESSION_TOKEN_B64_LEN; i++)
			tok[i] = abc[(k + 5 * i) % 64];
		tok[SESSION_TOKEN_B64_LEN - 1] = abc[(k * 4) % 64];  /* low 2 bits 0 */
		tok[SESSION_TOKEN_B64_LEN] = '\0';
		assert_int_equal(sodium_base642bin(raw, sizeof(raw), tok,
		    SESSION_TOKEN_B64_LEN, NULL, &n, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
		assert_int_equal(n, sizeof(raw));
		crypto_hash_sha256(want, raw, sizeof(raw));
		assert_true(session_parse_token(tok, got));
		assert_memory_equal(got, want, sizeof(want));
	}
	for (c = 1; c < 256; c++) {
		if (strchr(abc, c) != NULL)
			continue;
		for (i = 0; i < SESSION_TOKEN_B64_LEN; i += 6) {
			memset(tok, 'A', SESSION_TOKEN_B64_LEN);
			tok[i] = (char)c;
			assert_false(session_parse_token(tok, got));
		}
	}
}

static void
test_cookie_names_and_headers(void **state)
{
	char buf[SESSION_COOKIE_MAX], tok[SESSION_TOKEN_B64_LEN + 1], want[256];
	unsigned char h[SESSION_HASH_BYTES];

	(void)state;
	assert_string_equal(session_cookie_name(true), "__Host-session");
	assert_string_equal(session_cookie_name(false), "session");
	assert_string_equal(presession_cookie_name(true), "__Host-presession");
	assert_string_equal(presession_cookie_name(false), "presession");

	assert_int_equal(session_cookie_header(buf, sizeof(buf), "session",
	    "abc", 2592000, false), TD_OK);
	assert_string_equal(buf, "session=abc; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax");
	assert_int_equal(session_cookie_header(buf, sizeof(buf), "__Host-session",
	    "abc", 2592000, true), TD_OK);
	assert_string_equal(buf, "__Host-session=abc; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax; Secure");
	assert_int_equal(session_cookie_header(buf, sizeof(buf), "__Host-session",
	    NULL, 2592000, true), TD_OK);
	assert_string_equal(buf, "__Host-session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure");
	assert_int_equal(session_cookie_header(buf, sizeof(buf), "session",
	    NULL, 99, false), TD_OK);
	assert_string_equal(buf, "session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");

	/* The longest real one fits SESSION_COOKIE_MAX; too small a buffer
	 * is an error with an empty string, never a cut header. */
	assert_int_equal(session_new_token(tok, h), TD_OK);
	assert_int_equal(session_cookie_header(buf, sizeof(buf),
	    presession_cookie_name(true), tok, 31536000, true), TD_OK);
	snprintf(want, sizeof(want), "__Host-presession=%s; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax; Secure", tok);
	assert_string_equal(buf, want);
	assert_int_equal(session_cookie_header(buf, 20, "session", tok, 60,
	    false), TD_ETOOBIG);
	assert_string_equal(buf, "");
}

static void
test_csrf(void **state)
{
	char tok[SESSION_TOKEN_B64_LEN + 1], a[CSRF_TOKEN_LEN + 1],
	    a2[CSRF_TOKEN_LEN + 1], b[CSRF_TOKEN_LEN + 1], got[CSRF_TOKEN_LEN + 2];
	unsigned char h1[SESSION_HASH_BYTES], h2[SESSION_HASH_BYTES],
	    parsed[SESSION_HASH_BYTES];

	(void)state;
	assert_int_equal(session_new_token(tok, h1), TD_OK);
	assert_int_equal(session_new_token(tok, h2), TD_OK);
	csrf_token_for(h1, a);
	assert_int_equal(strlen(a), CSRF_TOKEN_LEN);
	/* The second session, from its cookie on a later request: the
	 * same token as from the hash it was made with. */
	assert_true(session_parse_token(tok, parsed));
	csrf_token_for(parsed, b);
	csrf_token_for(h2, a2);
	assert_string_equal(a2, b);
	csrf_token_for(h1, a2);
	assert_string_equal(a, a2);
	/* Another session: another token, refused. */
	assert_string_not_equal(a, b);
	assert_false(csrf_check(a, b, strlen(b)));

	assert_true(csrf_check(a, a2, strlen(a2)));
	memcpy(got, a, sizeof(a));
	got[10] = got[10] == 'x' ? 'y' : 'x';
	assert_false(csrf_check(a, got, strlen(got)));
	assert_false(csrf_check(a, a, CSRF_TOKEN_LEN - 1));
	snprintf(got, sizeof(got), "%s=", a);
	assert_false(csrf_check(a, got, strlen(got)));
	assert_false(csrf_check(a, "", 0));
	assert_false(csrf_check(a, NULL, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_round_trip),
		cmocka_unit_test(test_token_rejects),
		cmocka_unit_test(test_token_alphabet),
		cmocka_unit_test(test_cookie_names_and_headers),
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
