/* password.h - the password policy and password hashing (issue 8).
 *
 * Policy (NIST SP 800-63B: a length floor, no composition rules, refuse
 * common passwords): at least 8 characters counted as code points, at most
 * 1,024 bytes of valid UTF-8 without NUL, not the email address nor its
 * local part (ignoring case), not a common password.
 *
 * "Common" is looked up in Debian's cracklib dictionary (libcrack2,
 * cracklib-runtime: /var/cache/cracklib/cracklib_dict.*, built from
 * /usr/share/dict/cracklib-small, about 55,000 words and well-known
 * passwords), through its plain lookup (PWOpen/FindPW in packer.h), not
 * FascistCheck(): that one also refuses on rules NIST advises against or
 * that misfire (fewer than 5 different characters, "too
 * simplistic/systematic" counts neighbouring letters and refuses the
 * passphrase "first rust stop"; it checks the server's Unix account). We
 * look up the lower-cased password, the same without trailing digits and
 * symbols ("Sunshine2024!"), and both with common substitutions undone
 * ("P@ssw0rd"); a password that is a run of one short unit ("abababab") or
 * a stretch of a keyboard row or of the alphabet or digits ("12345678",
 * "qwertyuiop") is common too. A missing dictionary is an error, not a
 * pass.
 *
 * Hashing: argon2id through libsodium at OWASP's minimum, m=19 MiB, t=2,
 * p=1 (libsodium's argon2 is single-lane). Compile-time constants: raising
 * them makes password_needs_rehash() true for older hashes, and the
 * sign-in re-hashes. Measured with bench/password (tests/bench_password)
 * on the 2-core development machine (busy: load 2.3): one hash or verify
 * takes about 83 ms and 19 MiB; a worker doing one is busy that long (docs/performance.md).
 */
#ifndef TODO_PASSWORD_H
#define TODO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "status.h"

#define PASSWORD_MIN_CHARS	8	/* code points */
#define PASSWORD_MAX_BYTES	1024
#define PASSWORD_OPSLIMIT	2ULL			/* argon2 t */
#define PASSWORD_MEMLIMIT	((size_t)19 * 1024 * 1024)	/* m=19456 KiB */

/* TD_OK: acceptable. TD_EINVAL: refused, *why says why in a sentence for
 * the person choosing it. TD_ESYSTEM: the dictionary could not be read
 * (*why says so; log it and answer 500). email may be NULL. */
enum td_status password_check(const char *pw, size_t len, const char *email,
    const char **why);

/* out: the "$argon2id$v=19$m=19456,t=2,p=1$..." string, NUL-terminated.
 * TD_ENOMEM when the memory could not be had. */
enum td_status password_hash(const char *pw, size_t len,
    char out[crypto_pwhash_STRBYTES]);
/* True when pw matches hash (any argon2 parameters). */
bool password_verify(const char *hash, const char *pw, size_t len);
/* True when hash was made with other parameters (or is not ours). */
bool password_needs_rehash(const char *hash);
/* Spends a verify's time against a fixed dummy hash (made once per
 * process, on first use) and returns false: for an unknown email, so that
 * it costs what a wrong password costs. */
bool password_verify_dummy(const char *pw, size_t len);

#endif
