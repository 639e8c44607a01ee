/* test_password.c - the policy (lengths, email, common passwords) and
 * argon2id hashing. Hashing costs tens of ms each: few such tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "password.h"

#define EMAIL "Ada.Lovelace@Example.com"

static enum td_status
check(const char *pw, const char **why)
{
	return password_check(pw, strlen(pw), EMAIL, why);
}

static void
test_length_in_code_points(void **state)
{
	const char *why;

	(void)state;
	/* 7 and 8 code points of two and three bytes each. */
	assert_int_equal(check("\xc3\xa9t\xc3\xa9 \xc3\xa0 \xc3\xa7", &why), TD_EINVAL);
	assert_string_equal(why, "Use at least 8 characters.");
	assert_int_equal(check("\xc3\xa9t\xc3\xa9 \xc3\xa0 \xc3\xa7\xc3\xa0", &why), TD_OK);
	assert_null(why);
	assert_int_equal(check("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae"
	    "\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf", &why), TD_EINVAL);   /* 7 */
	assert_int_equal(check("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae"
	    "\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc", &why), TD_OK);
	/* Bytes do not count: 7 code points in 14 bytes are too few. */
	assert_int_equal(check("\xd0\xb7\xd0\xbc\xd0\xb5\xd1\x8f\xd0\xba\xd0\xbe\xd1\x82",
	    &why), TD_EINVAL);
}

static void
test_byte_limit(void **state)
{
	char pw[PASSWORD_MAX_BYTES + 2];
	const char *why;
	size_t i;

	(void)state;
	/* Not a repeat of a short unit: a counter spelled in letters. */
	for (i = 0; i < sizeof(pw); i++)
		pw[i] = (char)('a' + (i * 7 + i / 26) % 26);
	assert_int_equal(password_check(pw, PASSWORD_MAX_BYTES, EMAIL, &why), TD_OK);
	assert_int_equal(password_check(pw, PASSWORD_MAX_BYTES + 1, EMAIL, &why),
	    TD_EINVAL);
	assert_string_equal(why, "That password is too long: use at most 1,024 bytes.");
}

static void
test_not_the_email(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(check("ada.lovelace@example.COM", &why), TD_EINVAL);
	assert_string_equal(why, "Do not use your email address as your password.");
	assert_int_equal(check("ADA.LOVELACE", &why), TD_EINVAL);
	assert_string_equal(why, "Do not use your email address as your password.");
	/* Containing it is fine; no email at all is fine. */
	assert_int_equal(check("ada.lovelace writes notes", &why), TD_OK);
	assert_int_equal(password_check("ADA.LOVELACE", 12, NULL, &why), TD_OK);
}

static void
test_common(void **state)
{
	static const char *const bad[] = {
		"password", "Password1", "P@ssw0rd", "sunshine2024!", "football",
		"12345678", "1234567890", "qwertyuiop", "abcdefgh", "87654321",
		"aaaaaaaa", "abababab", "iloveyou",
		"Tr0ub4dor&3",   /* xkcd 936: a word with swaps and a tail */
	};
	static const char *const good[] = {
		"first rust stop", "correct horse battery staple",
		"zx8#Lq0p", "aabbccdd", "purple monkey dishwasher",
	};
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check(bad[i], &why) != TD_EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_string_equal(why, "That password is too common: choose another one.");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (check(good[i], &why) != TD_OK)
			fail_msg("refused %s: %s", good[i], why);
}

static void
test_invalid_utf8(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(check("abcdefgh\xff", &why), TD_EINVAL);
	assert_string_equal(why, "That password has characters that are not text: type it again.");
	assert_int_equal(check("abc\xc0\xaf" "defgh", &why), TD_EINVAL);   /* overlong */
	assert_int_equal(password_check("river\0stone", 11, EMAIL, &why), TD_EINVAL);
}

static void
test_hash_verify_rehash(void **state)
{
	char h[crypto_pwhash_STRBYTES], weak[crypto_pwhash_STRBYTES];

	(void)state;
	assert_int_equal(password_hash("first rust stop", 15, h), TD_OK);
	assert_true(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	assert_true(password_verify(h, "first rust stop", 15));
	assert_false(password_verify(h, "first rust stoP", 15));
	assert_false(password_verify(h, "first rust sto", 14));
	assert_false(password_needs_rehash(h));

	assert_int_equal(crypto_pwhash_str_alg(weak, "first rust stop", 15, 1,
	    8 * 1024 * 1024, crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_true(password_verify(weak, "first rust stop", 15));
	assert_true(password_needs_rehash(weak));
	assert_true(password_needs_rehash("not a hash"));
}

static void
test_dummy(void **state)
{
	(void)state;
	assert_false(password_verify_dummy("first rust stop", 15));
	assert_false(password_verify_dummy("", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length_in_code_points),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_not_the_email),
		cmocka_unit_test(test_common),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_hash_verify_rehash),
		cmocka_unit_test(test_dummy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
