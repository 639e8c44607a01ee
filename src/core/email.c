/* email.c - see email.h. */
#include "email.h"

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool
forbidden(unsigned char c)
{
	return c < 0x21 || c == 0x7f || strchr("\"(),:;<>[\\]", c) != NULL;
}

enum td_status
email_normalize(const char *in, char *out, size_t outlen, const char **why)
{
	const char *s = in, *at = NULL;
	size_t n, i, local;

	*why = "Please enter your email address.";
	if (in == NULL)
		return TD_EINVAL;
	while (is_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return TD_EINVAL;
	*why = "That does not look like an email address (name@example.org).";
	if (n < 3 || n > EMAIL_MAX_BYTES || n + 1 > outlen || !utf8_valid(s, n))
		return TD_EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '@') {
			if (at != NULL)
				return TD_EINVAL;
			at = s + i;
		} else if (forbidden(c)) {
			return TD_EINVAL;
		}
	}
	if (at == NULL)
		return TD_EINVAL;
	local = (size_t)(at - s);
	if (local < 1 || local > 64 || local + 1 == n)
		return TD_EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[n] = '\0';
	/* Domain: no empty label (leading, trailing or doubled dot). */
	if (out[local + 1] == '.' || out[n - 1] == '.' ||
	    strstr(out + local, "..") != NULL)
		return TD_EINVAL;
	*why = NULL;
	return TD_OK;
}
