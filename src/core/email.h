/* email.h - the one way an email address is checked and normalised, for
 * the sign-up form, the sign-in form and todoctl alike.
 *
 * Accepted: valid UTF-8, trimmed of surrounding whitespace, 3 to 254
 * bytes, one '@' with 1 to 64 bytes before it and a domain after it of
 * labels separated by single dots; no spaces, control characters or any
 * of  "(),:;<>[\]  (quoted local parts are not supported). ASCII letters
 * are lower-cased: the domain is case-insensitive, and no mail provider
 * treats the local part's case as meaningful, so "Ann@Example.org" and
 * "ann@example.org" are one account. Non-ASCII letters are kept as typed
 * (internationalised addresses). No DNS lookup and no mail is sent. */
#ifndef TODO_EMAIL_H
#define TODO_EMAIL_H

#include <stddef.h>

#include "status.h"

#define EMAIL_MAX_BYTES 254

/* TD_OK: out (at least EMAIL_MAX_BYTES + 1 bytes) holds the normalised
 * address. TD_EINVAL: *why is a sentence for the person who typed it. */
enum td_status email_normalize(const char *in, char *out, size_t outlen,
    const char **why);

#endif
