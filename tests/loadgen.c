/* loadgen.c - a steady stream of reads and form posts against the app, one
 * record per request (tests/e2e_multihost). A shell loop of curl costs a
 * process per request; this keeps a few hundred requests a second going
 * on a small machine, with timestamps taken around each request.
 *
 * loadgen [-c COOKIE] PORT TAG READERS WRITERS DEADLINE_US MAX_REQUESTS OUTDIR
 *
 * Forks READERS + WRITERS clients against http://127.0.0.1:PORT. A reader
 * sends GET /todos; a writer sends GET /todos, takes the add form's fresh
 * token (and csrf_token, when the page has one) from the page and posts
 * the form (POST /todos, as a browser would: same-origin headers) with the
 * title TAG-wN-M. With -c, every request carries "Cookie: COOKIE" (a
 * session cookie, NAME=VALUE: every page needs one since accounts, see
 * docs/accounts.md; all clients are then that one person). Each stops at DEADLINE_US
 * (wall clock, microseconds since the epoch: the clock nginx logs) or after
 * MAX_REQUESTS requests; each request is bounded by a 10 s timeout. Every
 * request carries "X-Test-Id: ID" and is one line in OUTDIR/client-ID
 * (rN or wN):
 *
 *   ID METHOD START_US END_US STATUS ERROR TITLE
 *
 * STATUS is 000 and ERROR 1 when there was no complete answer (refused,
 * reset, timed out, truncated); TITLE is "-" for a GET. Exit status 0 when
 * every client ran to its end, 1 otherwise. The clients die with loadgen
 * (SIGTERM to it is enough to stop them all). */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

#define REQUEST_TIMEOUT_MS	10000
#define CLIENTS_MAX		64
#define COOKIE_MAX		256

static int port;
static const char *tag;
static char cookie_hdr[COOKIE_MAX + 16];	/* "Cookie: ...\r\n" or "" */

static int64_t
now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One request; the record's line goes to out. The response stays in r
 * (freed by the caller) when it was complete. */
static void
one(FILE *out, const char *id, const char *method, const char *req,
    const char *title, struct http_resp *r)
{
	int64_t t0, t1;
	int rc;

	t0 = now_us();
	rc = http_raw("127.0.0.1", port, req, strlen(req), r,
	    REQUEST_TIMEOUT_MS);
	t1 = now_us();
	if (rc != 0)
		r->status = 0;
	fprintf(out, "%s %s %" PRId64 " %" PRId64 " %03d %d %s\n", id, method,
	    t0, t1, r->status, rc != 0, title);
}

static int
client(char kind, int n, int64_t deadline, long max, const char *dir)
{
	char path[PATH_MAX], id[64], title[128], req[1536], body[512];
	struct http_resp r;
	char *token, *csrf;
	FILE *out;
	long i;

	snprintf(path, sizeof(path), "%s/client-%c%d", dir, kind, n);
	if ((out = fopen(path, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 1; i <= max && now_us() < deadline; i++) {
		snprintf(id, sizeof(id), kind == 'r' ? "r%d-%ld" : "w%d-%ld-g",
		    n, i);
		snprintf(req, sizeof(req), "GET /todos HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\nX-Test-Id: %s\r\n%s"
		    "Connection: close\r\n\r\n", port, id, cookie_hdr);
		one(out, id, "GET", req, "-", &r);
		if (kind == 'r' || r.status != 200 ||
		    (token = http_form_value(r.body, "token")) == NULL) {
			http_resp_free(&r);
			continue;
		}
		/* Base64url, like the token: nothing to encode. */
		csrf = http_form_value(r.body, "csrf_token");
		http_resp_free(&r);
		if (now_us() >= deadline) {
			free(token);
			free(csrf);
			break;
		}
		snprintf(id, sizeof(id), "w%d-%ld-p", n, i);
		snprintf(title, sizeof(title), "%s-w%d-%ld", tag, n, i);
		snprintf(body, sizeof(body), "title=%s&description=&token=%s"
		    "&return_to=%%2Ftodos%s%s", title, token,
		    csrf != NULL ? "&csrf_token=" : "", csrf != NULL ? csrf : "");
		free(token);
		free(csrf);
		snprintf(req, sizeof(req), "POST /todos HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\nX-Test-Id: %s\r\n%s"
		    "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    port, id, cookie_hdr, port, strlen(body), body);
		one(out, id, "POST", req, title, &r);
		http_resp_free(&r);
	}
	return fclose(out) == 0 ? 0 : 1;
}

static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static int
usage(void)
{
	fprintf(stderr, "usage: loadgen [-c COOKIE] PORT TAG READERS WRITERS "
	    "DEADLINE_US MAX_REQUESTS OUTDIR\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	pid_t pids[CLIENTS_MAX], parent;
	int64_t deadline;
	long readers, writers, max, i, n = 0;
	int status, rc = 0, opt;
	char *end;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		switch (opt) {
		case 'c':
			/* One header line. */
			if (*optarg == '\0' || strlen(optarg) > COOKIE_MAX ||
			    optarg[strcspn(optarg, "\r\n")] != '\0') {
				fprintf(stderr, "loadgen: -c COOKIE: one line, "
				    "at most %d characters\n", COOKIE_MAX);
				return 2;
			}
			snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s\r\n",
			    optarg);
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 7)
		return usage();
	port = (int)number(argv[0], 1, 65535);
	tag = argv[1];
	if (strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(tag) || strlen(tag) > 64) {
		fprintf(stderr, "loadgen: TAG must be [a-z0-9-], at most 64\n");
		return 2;
	}
	readers = number(argv[2], 0, CLIENTS_MAX);
	writers = number(argv[3], 0, CLIENTS_MAX - readers);
	errno = 0;
	deadline = strtoll(argv[4], &end, 10);
	if (errno != 0 || *end != '\0' || deadline <= now_us() ||
	    deadline > now_us() + (int64_t)600 * 1000000) {
		fprintf(stderr, "loadgen: DEADLINE_US must be within 10 minutes\n");
		return 2;
	}
	max = number(argv[5], 1, 1000000);
	parent = getpid();
	for (i = 0; i < readers + writers; i++) {
		if ((pids[n] = fork()) == -1) {
			fprintf(stderr, "loadgen: fork: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (pids[n] == 0) {
			/* A test that stops loadgen stops its clients too. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
			    getppid() != parent)
				_exit(1);
			_exit(client(i < readers ? 'r' : 'w',
			    (int)(i < readers ? i + 1 : i - readers + 1),
			    deadline, max, argv[6]));
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		pid_t w;

		while ((w = waitpid(pids[i], &status, 0)) == -1 && errno == EINTR)
			;
		if (w == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = 1;
	}
	return rc;
}
