/* driver.c - main() for the harnesses without libFuzzer: make check links
 * each tests/fuzz/fuzz_TARGET.c with it and runs it over its corpus, so a
 * regression input fails the build on any compiler (gcc included) and
 * under the sanitizers of build-asan.
 *
 * Usage: fuzz_TARGET [FILE|DIR...]; without arguments the corpus
 * $TODO_SRCDIR/tests/fuzz/corpus/TARGET (TARGET from the program's name).
 * Output is cmocka's, which script/test counts: one test case per
 * harness, passed when every input ran without a failed property. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_file(const char *path)
{
	uint8_t *data;
	size_t n = 0, cap = 4096, got;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((data = malloc(cap)) == NULL)
		abort();
	while ((got = fread(data + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap && (data = realloc(data, cap *= 2)) == NULL)
			abort();
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	/* A copy of exactly n bytes: ASan sees any read past the input. */
	{
		uint8_t *exact = malloc(n > 0 ? n : 1);

		if (exact == NULL)
			abort();
		memcpy(exact, data, n);
		free(data);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	return 1;
}

/* Runs every regular file in path (or path itself); returns the count,
 * -1 on error. In name order, so a failure is reproducible. */
static int
run_path(const char *path)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, full[4096];
	size_t n = 0, i;
	int count = 0, r;
	DIR *d;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (names[n] = strdup(de->d_name)) == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			/* Named before it runs: a crash shows which one. */
			printf("    %s\n", full);
			fflush(stdout);
			if ((r = run_file(full)) < 0)
				count = -1;
			else if (count >= 0)
				count += r;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/'), *src;
	char corpus[4096];
	int i, n, total = 0, bad = 0;

	name = name != NULL ? name + 1 : argv[0];
	/* libtool-style wrappers and .exe do not apply: the name is fuzz_T. */
	if (strncmp(name, "fuzz_", 5) == 0)
		name += 5;
	printf("[==========] Running 1 test(s).\n[ RUN      ] fuzz_%s\n", name);
	fflush(stdout);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if ((n = run_path(argv[i])) < 0)
				bad = 1;
			else
				total += n;
		}
	} else {
		src = getenv("TODO_SRCDIR");
		snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/%s",
		    src != NULL ? src : ".", name);
		if ((n = run_path(corpus)) < 0)
			bad = 1;
		else
			total = n;
		/* An empty corpus tests nothing: that is a mistake too. */
		if (n == 0) {
			fprintf(stderr, "%s: no inputs\n", corpus);
			bad = 1;
		}
	}
	if (bad) {
		printf("[  FAILED  ] fuzz_%s\n[==========] 1 test(s) run.\n"
		    "[  PASSED  ] 0 test(s).\n[  FAILED  ] 1 test(s), listed below:\n"
		    "[  FAILED  ] fuzz_%s\n", name, name);
		return 1;
	}
	printf("    %d input(s), every property held\n[       OK ] fuzz_%s\n"
	    "[==========] 1 test(s) run.\n[  PASSED  ] 1 test(s).\n", total, name);
	return 0;
}
