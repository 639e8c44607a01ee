/* main.c - todo-fcgi: read settings, compile templates, check the schema,
 * open the socket, then hand over to the pool (pool.c). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "etag.h"
#include "listen.h"
#include "log.h"
#include "migrate.h"
#include "pool.h"
#include "schema.h"
#include "status_page.h"
#include "tmpl.h"
#include "worker.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

/* The pool hands one pointer to both the workers and reload(): env comes
 * first so that a struct master is also a struct worker_env. */
struct master {
	struct worker_env env;
	const char *env_file;
	struct config cfg;
	struct pool_opts opts;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: todo-fcgi [--env-file FILE] [--check]\n"
	    "       todo-fcgi --help | --version\n\n"
	    "The Todo app's FastCGI worker pool. Put nginx in front of it.\n\n"
	    "  --env-file FILE  read settings from FILE (NAME=VALUE lines);\n"
	    "                   the environment overrides the file\n"
	    "  --check          validate settings and templates, then exit\n"
	    "                   (not the database: see `todoctl check`)\n\n"
	    "Signals: TERM/INT stop gracefully; HUP reloads the templates and the\n"
	    "--env-file (the process environment stays what it was at start: under\n"
	    "systemd, restart to change settings or the binary); USR1 reopens\n"
	    "TODO_LOG_FILE after a rotation.\n\n");
	if (f == stdout)
		config_print_help();
}

static enum log_level
level_of(const char *s)
{
	if (strcmp(s, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(s, "warn") == 0)
		return LOG_WARN;
	if (strcmp(s, "error") == 0)
		return LOG_ERROR;
	return LOG_INFO;
}

static enum td_status
load(const char *env_file, struct config *cfg, struct tmpl_set **tmpl)
{
	unsigned char id[ETAG_BUILD_BYTES], again[ETAG_BUILD_BYTES];
	char err[512];
	enum td_status rc;

	if ((rc = config_load(cfg, env_file, err, sizeof(err))) != TD_OK ||
	    (rc = status_allow_check(cfg->status_allow, err, sizeof(err))) != TD_OK) {
		log_error("bad setting: %s", err);
		return rc;
	}
	/* The pages' ETags name the templates in use (etag.h): read before
	 * and after compiling, so that a deploy caught midway is refused. */
	if ((rc = etag_build_id(cfg->template_dir, cfg->static_url, id, err,
	    sizeof(err))) != TD_OK ||
	    (rc = tmpl_load_dir(cfg->template_dir, tmpl, err, sizeof(err))) != TD_OK ||
	    (rc = etag_build_id(cfg->template_dir, cfg->static_url, again, err,
	    sizeof(err))) != TD_OK) {
		log_error("templates (%s): %s", cfg->template_dir, err);
		tmpl_set_free(*tmpl);
		*tmpl = NULL;
		return rc;
	}
	if (memcmp(id, again, sizeof(id)) != 0) {
		log_error("templates (%s) changed while they were read: try again",
		    cfg->template_dir);
		tmpl_set_free(*tmpl);
		*tmpl = NULL;
		return TD_EINVAL;
	}
	etag_set_build(id);
	log_set_level(level_of(cfg->log_level));
	return TD_OK;
}

/* SIGHUP: new settings and templates for the next generation of workers;
 * on any error the running ones stay. */
static enum td_status
reload(void *arg)
{
	struct master *m = arg;
	struct config cfg;
	struct tmpl_set *tmpl = NULL;
	enum td_status rc;

	if ((rc = load(m->env_file, &cfg, &tmpl)) != TD_OK) {
		log_error("reload refused: keeping the running settings and templates");
		return rc;
	}
	if (strcmp(cfg.listen, m->cfg.listen) != 0)
		log_warn("TODO_LISTEN changed: takes effect on restart, not reload");
	strcpy(cfg.listen, m->cfg.listen);
	m->cfg = cfg;
	tmpl_set_free(m->env.tmpl);
	m->env.tmpl = tmpl;
	m->opts.workers = cfg.workers;
	m->opts.workers_max = cfg.workers_max;
	m->opts.idle_timeout = cfg.workers_idle_timeout;
	m->opts.request_timeout = cfg.request_timeout;
	m->opts.shutdown_timeout = cfg.shutdown_timeout;
	log_info("reloaded settings and templates");
	return TD_OK;
}

/* Refuse to start against an older schema; a database that is down only
 * warns (it may be waking up), workers check again when they connect. */
static int
check_schema(const struct config *cfg)
{
	char err[512];
	PGconn *conn;
	int version = 0;

	conn = db_connect_once(cfg->database_url, cfg->db_connect_timeout,
	    "todo-fcgi", err, sizeof(err));
	if (conn == NULL) {
		log_warn("database not reachable at start-up (%s); starting anyway", err);
		return 0;
	}
	if (migrate_current_version(conn, &version) != TD_OK) {
		log_error("cannot read the schema version: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	PQfinish(conn);
	if (version < TODO_SCHEMA_VERSION) {
		log_error("database schema is at version %d but this build needs %d: run `todoctl migrate up` first",
		    version, TODO_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

/* Started as root (a socket directory or port only root may use): once
 * the socket is open, become TODO_USER for good, before any connection
 * to the database or any request. Staging and production never serve as
 * root. */
static int
drop_root(const struct config *cfg)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		if (cfg->user[0] != '\0')
			log_info("TODO_USER=%s not used: not started as root", cfg->user);
		return 0;
	}
	if (cfg->user[0] == '\0') {
		if (cfg->env != ENV_DEVELOPMENT) {
			log_error("refusing to serve as root in %s: set TODO_USER to an unprivileged user (the systemd unit sets User= instead)",
			    config_env_name(cfg->env));
			return -1;
		}
		log_warn("running as root: set TODO_USER to switch to an unprivileged user");
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		log_error("TODO_USER: there is no user %s%s%s", cfg->user,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_error("TODO_USER=%s is root: name an unprivileged user", cfg->user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_error("cannot switch to TODO_USER=%s: %s", cfg->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		log_error("could regain root after switching to %s", cfg->user);
		return -1;
	}
	/* As su(1) does: libpq looks in $HOME (~/.pgpass, ~/.postgresql/
	 * for client certificates), and root's home is not readable now. */
	if (setenv("HOME", pw->pw_dir, 1) != 0 || setenv("USER", pw->pw_name, 1) != 0 ||
	    setenv("LOGNAME", pw->pw_name, 1) != 0) {
		log_error("cannot set HOME for %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	log_info("switched to user %s (uid %ld, gid %ld)", pw->pw_name,
	    (long)pw->pw_uid, (long)pw->pw_gid);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "env-file", required_argument, NULL, 'e' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct master m;
	char err[512];
	int ch, check = 0, fd = -1, status = 1;

	while ((ch = getopt_long(argc, argv, "e:chV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e': m.env_file = optarg; break;
		case 'c': check = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("todo-fcgi %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (load(m.env_file, &m.cfg, &m.env.tmpl) != TD_OK)
		return 1;
	if (check) {
		/* No connection here: the database gets its own check. */
		printf("checked settings and templates only (TODO_ENV=%s): valid\n"
		    "the database was not tested: run `todoctl check`\n",
		    config_env_name(m.cfg.env));
		status = 0;
		goto out;
	}
	if (listen_open(m.cfg.listen, m.cfg.socket_mode, m.cfg.socket_group,
	    m.cfg.backlog, &fd, err, sizeof(err)) != TD_OK) {
		log_error("%s", err);
		goto out;
	}
	if (drop_root(&m.cfg) != 0)
		goto out;
	/* Opened (and reopened on SIGUSR1) as TODO_USER: its directory must
	 * be writable by that user, as logrotate's `create` keeps it. */
	if (m.cfg.log_file[0] != '\0' && log_open_file(m.cfg.log_file) != 0) {
		log_error("TODO_LOG_FILE=%s: %s", m.cfg.log_file, strerror(errno));
		goto out;
	}
	if (check_schema(&m.cfg) != 0)
		goto out;
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	m.env.cfg = &m.cfg;
	m.opts.listen_fd = fd;
	m.opts.workers = m.cfg.workers;
	m.opts.workers_max = m.cfg.workers_max;
	m.opts.idle_timeout = m.cfg.workers_idle_timeout;
	m.opts.request_timeout = m.cfg.request_timeout;
	m.opts.shutdown_timeout = m.cfg.shutdown_timeout;
	m.opts.crash_limit = 5;
	m.opts.crash_window = 10;
	m.opts.worker = worker_main;
	m.opts.reload = reload;
	m.opts.arg = &m;
	log_info("todo-fcgi %s (%s) listening on %s with %d workers", PACKAGE_VERSION,
	    config_env_name(m.cfg.env), m.cfg.listen, m.cfg.workers);
	if (pool_run(&m.opts) == TD_OK)
		status = 0;
	log_info("stopped");
	listen_cleanup(m.cfg.listen);
out:
	tmpl_set_free(m.env.tmpl);
	return status;
}
