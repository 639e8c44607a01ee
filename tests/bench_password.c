/* bench_password.c - time one password_hash() and one password_verify()
 * at password.h's parameters (bench/password runs it). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "password.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	char h[crypto_pwhash_STRBYTES];
	double t0, hash_ms = 0, verify_ms = 0;
	int i, n = argc > 1 ? atoi(argv[1]) : 5;

	if (n < 1)
		n = 1;
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if (password_hash("first rust stop", 15, h) != TD_OK) {
			fprintf(stderr, "bench_password: hashing failed\n");
			return 1;
		}
		hash_ms += now_ms() - t0;
		t0 = now_ms();
		if (!password_verify(h, "first rust stop", 15)) {
			fprintf(stderr, "bench_password: verify failed\n");
			return 1;
		}
		verify_ms += now_ms() - t0;
	}
	printf("argon2id m=%zu KiB t=%llu p=1, mean of %d\n",
	    PASSWORD_MEMLIMIT / 1024, PASSWORD_OPSLIMIT, n);
	printf("hash   %.1f ms\nverify %.1f ms\n", hash_ms / n, verify_ms / n);
	return 0;
}
