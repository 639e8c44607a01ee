/* fuzz.h - what every harness in tests/fuzz shares.
 *
 * A harness defines LLVMFuzzerTestOneInput() and checks properties with
 * CHECK(); a violated property aborts, so libFuzzer keeps the input as a
 * crash-* file (make fuzz copies those into tests/fuzz/corpus/TARGET/) and
 * driver.c, the standalone main() make check links instead of libFuzzer,
 * fails on it. */
#ifndef TODO_FUZZ_H
#define TODO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): it must hold under -DNDEBUG too. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
