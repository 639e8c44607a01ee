/* password.c - password policy (cracklib's dictionary) and argon2id. */
#include "password.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <crack.h>
#include <packer.h>

#include "utf8.h"

#define TOO_COMMON "That password is too common: choose another one."

/* Stretches people type as passwords; a password inside one (either way
 * round: the reversed copies are listed too) is common. */
static const char *const runs[] = {
	"01234567890", "09876543210",
	"abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba",
	"qwertyuiopasdfghjklzxcvbnm", "mnbvcxzlkjhgfdsapoiuytrewq",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
	"qazwsxedcrfvtgbyhnujmikolp",
	"qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn",
};

/* Whole password is its first 1 to 4 bytes over and over. */
static bool
repeats(const char *s, size_t n)
{
	size_t p, i;

	for (p = 1; p <= 4 && p < n; p++) {
		for (i = p; i < n && s[i] == s[i - p]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

static bool
in_runs(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (strstr(runs[i], s) != NULL)
			return true;
	return false;
}

/* Undo the usual letter-to-symbol swaps, in place. */
static void
unleet(char *s)
{
	static const char from[] = "@4310!$57", to[] = "aaeioisst";
	const char *p;

	for (; *s != '\0'; s++)
		if ((p = strchr(from, *s)) != NULL)
			*s = to[p - from];
}

/* Drop trailing digits and ASCII symbols ("summer2024!" -> "summer"),
 * keeping at least 3 bytes; false when nothing was dropped. */
static bool
strip_tail(char *s)
{
	size_t n = strlen(s), m = n;

	while (m > 3 && isascii((unsigned char)s[m - 1]) &&
	    !isalpha((unsigned char)s[m - 1]))
		m--;
	s[m] = '\0';
	return m < n;
}

/* 1: in the dictionary, 0: not, -1: no dictionary. The dictionary is
 * opened per call (microseconds next to a hash): its FILEs must not be
 * shared by workers forked from one process. */
static int
common(const char *pw, size_t len)
{
	char mode[] = "r", low[PASSWORD_MAX_BYTES + 1], cand[4][sizeof(low)];
	char probe[] = "\001";
	PWDICT *d;
	unsigned int absent;
	size_t i, n = 0;
	int found = 0;

	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)pw[i]);
	low[len] = '\0';
	if (repeats(low, len) || in_runs(low))
		return 1;
	/* The candidates: as typed, without its tail, substitutions undone. */
	memcpy(cand[n++], low, len + 1);
	memcpy(cand[n], low, len + 1);
	if (strip_tail(cand[n]))
		n++;
	for (i = 0; i < 2 && i < n; i++) {
		memcpy(cand[n], cand[i], strlen(cand[i]) + 1);
		unleet(cand[n]);
		if (strcmp(cand[n], cand[i]) != 0)
			n++;
	}
	if ((d = PWOpen(GetDefaultCracklibDict(), mode)) == NULL)
		return -1;
	/* FindPW answers the word count for a word it lacks; the count is
	 * not in the public interface, so ask for a word below every word. */
	absent = FindPW(d, probe);
	for (i = 0; i < n && !found; i++)
		found = FindPW(d, cand[i]) != absent ||
		    (strlen(cand[i]) >= PASSWORD_MIN_CHARS && in_runs(cand[i]));
	PWClose(d);
	return found;
}

/* pw is email, or its local part, ignoring (ASCII) case. */
static bool
is_email(const char *pw, size_t len, const char *email)
{
	const char *at;

	if (email == NULL || *email == '\0')
		return false;
	if (strlen(email) == len && strncasecmp(pw, email, len) == 0)
		return true;
	at = strrchr(email, '@');
	return at != NULL && (size_t)(at - email) == len &&
	    strncasecmp(pw, email, len) == 0;
}

enum td_status
password_check(const char *pw, size_t len, const char *email,
    const char **why)
{
	int c;

	if (len > PASSWORD_MAX_BYTES) {
		*why = "That password is too long: use at most 1,024 bytes.";
		return TD_EINVAL;
	}
	/* NUL too: the dictionary and libsodium's callers see C strings. */
	if (!utf8_valid(pw, len) || memchr(pw, '\0', len) != NULL) {
		*why = "That password has characters that are not text: type it again.";
		return TD_EINVAL;
	}
	if (utf8_count(pw, len) < PASSWORD_MIN_CHARS) {
		*why = "Use at least 8 characters.";
		return TD_EINVAL;
	}
	if (is_email(pw, len, email)) {
		*why = "Do not use your email address as your password.";
		return TD_EINVAL;
	}
	if ((c = common(pw, len)) < 0) {
		*why = "The list of common passwords could not be read (cracklib-runtime).";
		return TD_ESYSTEM;
	}
	if (c > 0) {
		*why = TOO_COMMON;
		return TD_EINVAL;
	}
	*why = NULL;
	return TD_OK;
}

enum td_status
password_hash(const char *pw, size_t len, char out[crypto_pwhash_STRBYTES])
{
	if (sodium_init() < 0)
		return TD_ESYSTEM;
	if (crypto_pwhash_str_alg(out, pw, len, PASSWORD_OPSLIMIT,
	    PASSWORD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return TD_ENOMEM;
	return TD_OK;
}

bool
password_verify(const char *hash, const char *pw, size_t len)
{
	if (sodium_init() < 0)
		return false;
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

bool
password_needs_rehash(const char *hash)
{
	if (sodium_init() < 0)
		return true;
	/* -1 (not an argon2id string of ours) needs a new hash as well. */
	return crypto_pwhash_str_needs_rehash(hash, PASSWORD_OPSLIMIT,
	    PASSWORD_MEMLIMIT) != 0;
}

bool
password_verify_dummy(const char *pw, size_t len)
{
	static char dummy[crypto_pwhash_STRBYTES];
	static bool made;

	/* A hash of random bytes: nothing typed can match it, and it has our
	 * parameters, so the verify costs what a real one does. */
	if (!made) {
		unsigned char r[16];

		if (sodium_init() < 0)
			return false;
		randombytes_buf(r, sizeof(r));
		if (crypto_pwhash_str_alg(dummy, (const char *)r, sizeof(r),
		    PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT,
		    crypto_pwhash_ALG_ARGON2ID13) != 0)
			return false;
		made = true;
	}
	/* Its answer is no, and would not count anyway: this is no account. */
	if (crypto_pwhash_str_verify(dummy, pw, len) == 0)
		return false;
	return false;
}
