/*
 * fuzz_config.c - the env-file reader (config_load with an env file and
 * an environment without any setting). Input: the file. Properties: a
 * file that loads gives a configuration within the rules of config.h
 * (every string NUL-terminated in its field, the environment one of
 * three, positive counts and times, the session times and the database
 * timeout in their order, origins normalised, production's cookie and
 * HSTS rules); a refusal says why in a NUL-terminated message; blank and
 * comment lines after the last change nothing. Building
 * and running: docs/fuzzing.md.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

static int fd = -1;
static char path[64];

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

static void
check_config(const struct config *c)
{
	CHECK(c->env == ENV_DEVELOPMENT || c->env == ENV_STAGING ||
	    c->env == ENV_PRODUCTION);
	CHECK(TERMINATED(c->database_url) && TERMINATED(c->listen) &&
	    TERMINATED(c->socket_group) && TERMINATED(c->user) &&
	    TERMINATED(c->status_allow) && TERMINATED(c->template_dir) &&
	    TERMINATED(c->static_url) && TERMINATED(c->sql_dir) &&
	    TERMINATED(c->public_origin) && TERMINATED(c->log_file) &&
	    TERMINATED(c->log_level) && TERMINATED(c->hsts));
	CHECK(c->workers >= 1 && c->backlog >= 1 && c->max_body >= 0 &&
	    c->arena_cap > 0 && c->max_requests >= 0 && c->request_timeout >= 0 &&
	    c->shutdown_timeout >= 0 && c->slow_ms >= 0 && c->db_timeout >= 0 &&
	    c->db_connect_timeout >= 0 && c->socket_mode >= 0 &&
	    c->socket_mode <= 07777);
	CHECK(c->request_timeout == 0 || c->db_timeout < c->request_timeout);
	CHECK(c->session_touch < c->session_idle && c->session_idle <= c->session_max);
	CHECK(c->login_window > 0 && c->login_max_failures > 0 &&
	    c->login_max_address_failures > 0);
	CHECK(strcmp(c->log_level, "debug") == 0 || strcmp(c->log_level, "info") == 0 ||
	    strcmp(c->log_level, "warn") == 0 || strcmp(c->log_level, "error") == 0);
	if (c->public_origin[0] != '\0') {
		size_t i, n = strlen(c->public_origin);

		CHECK(strncmp(c->public_origin, "https://", 8) == 0 ||
		    strncmp(c->public_origin, "http://", 7) == 0);
		CHECK(c->public_origin[n - 1] != '/');
		for (i = 0; i < n; i++)
			CHECK(!(c->public_origin[i] >= 'A' && c->public_origin[i] <= 'Z'));
	}
	if (c->env == ENV_PRODUCTION) {
		CHECK(c->cookie_secure && c->hsts[0] != '\0');
		CHECK(strcmp(c->log_level, "debug") != 0);
	}
	if (c->env != ENV_DEVELOPMENT && c->public_origin[0] != '\0')
		CHECK(strncmp(c->public_origin, "https://", 8) == 0);
}

static enum td_status
load(const uint8_t *data, size_t size, struct config *c, char *err, size_t errlen)
{
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(err, 'x', errlen);
	return config_load(c, path, err, errlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c, c2;
	char err[512], err2[512];
	enum td_status rc, rc2;
	uint8_t *more;
	const char *name;
	size_t i;

	if (fd < 0) {
		/* Only the file speaks: no setting from the environment. */
		for (i = 0; (name = config_setting_name(i)) != NULL; i++)
			unsetenv(name);
		log_set_level(LOG_ERROR);
		if ((fd = memfd_create("env", 0)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	rc = load(data, size, &c, err, sizeof(err));
	CHECK(rc == TD_OK || rc == TD_EINVAL || rc == TD_ENOMEM);
	if (rc == TD_OK)
		check_config(&c);
	else
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');

	/* A comment and a blank line after the last line (which may lack
	 * its newline): the same settings. Only for files that load: most
	 * inputs fail on their first line, and each load costs an open. */
	if (rc != TD_OK)
		return 0;
	if ((more = malloc(size + 16)) == NULL)
		abort();
	memcpy(more, data, size);
	memcpy(more + size, "\n# x=y\n\n  \n", 11);
	rc2 = load(more, size + 11, &c2, err2, sizeof(err2));
	/* Unless the last line was 4095 bytes: with a newline it is too long. */
	if (rc2 != TD_OK)
		CHECK(strstr(err2, "line too long") != NULL);
	else
		CHECK(memcmp(&c, &c2, sizeof(c)) == 0);
	free(more);
	return 0;
}
