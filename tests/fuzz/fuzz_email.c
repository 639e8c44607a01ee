/*
 * fuzz_email.c - email_normalize. Properties: what it accepts comes out
 * trimmed, 3 to 254 bytes, valid UTF-8, with no ASCII capital, no space
 * or control byte, one '@' with 1 to 64 bytes before it and no empty
 * domain label; normalising is idempotent (normalize(normalize(x)) ==
 * normalize(x)) and ignores ASCII case and surrounding whitespace; a
 * refusal always says why. Building and running: docs/fuzzing.md.
 */
#include <string.h>

#include "email.h"
#include "fuzz.h"
#include "utf8.h"

static void
check_out(const char *out)
{
	size_t n = strlen(out), i;
	const char *at = strchr(out, '@');

	CHECK(n >= 3 && n <= EMAIL_MAX_BYTES && utf8_valid(out, n));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		CHECK(!(c >= 'A' && c <= 'Z'));
		CHECK(c > 0x20 && c != 0x7f);
		CHECK(strchr("\"(),:;<>[\\]", c) == NULL);
	}
	CHECK(at != NULL && strchr(at + 1, '@') == NULL);
	CHECK(at - out >= 1 && at - out <= 64);
	CHECK(at[1] != '\0' && at[1] != '.' && out[n - 1] != '.');
	CHECK(strstr(at, "..") == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *variant, out[EMAIL_MAX_BYTES + 1], again[EMAIL_MAX_BYTES + 1],
	    out2[EMAIL_MAX_BYTES + 1];
	const char *why = NULL;
	enum td_status rc;
	size_t i;

	if ((in = malloc(size + 1)) == NULL || (variant = malloc(size + 3)) == NULL)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	rc = email_normalize(in, out, sizeof(out), &why);
	if (rc != TD_OK) {
		CHECK(rc == TD_EINVAL && why != NULL && *why != '\0');
	} else {
		CHECK(why == NULL);
		check_out(out);
		CHECK(email_normalize(out, again, sizeof(again), &why) == TD_OK);
		CHECK(strcmp(again, out) == 0);
	}
	/* Case flipped and a blank around it: the same answer. */
	variant[0] = ' ';
	for (i = 0; i < size && in[i] != '\0'; i++) {
		char c = in[i];

		variant[i + 1] = c >= 'a' && c <= 'z' ? (char)(c - 32) :
		    c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	variant[i + 1] = '\t';
	variant[i + 2] = '\0';
	CHECK((email_normalize(variant, out2, sizeof(out2), &why) == TD_OK) == (rc == TD_OK));
	if (rc == TD_OK)
		CHECK(strcmp(out2, out) == 0);
	/* A buffer too small is a refusal, never an overflow. */
	if (rc == TD_OK)
		CHECK(email_normalize(in, again, strlen(out), &why) == TD_EINVAL);
	free(in);
	free(variant);
	return 0;
}
