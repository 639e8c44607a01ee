/* todoctl.c - the admin command: schema migrations, SQLite data import,
 * the pre-launch check, accounts. */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "check.h"
#include "config.h"
#include "db.h"
#include "import.h"
#include "log.h"
#include "migrate.h"
#include "status.h"
#include "users.h"
#include "verify.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0-unknown"
#endif
#ifndef TODO_SQL_DIR
#define TODO_SQL_DIR "sql"
#endif

/* Documented in usage(); scripts depend on them. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_PENDING = 3,
	EXIT_MISMATCH = 4,
};

struct ctx {
	const char	*sql_dir;
	const char	*database_url;	/* "" = libpq defaults (PGHOST...) */
	const struct config *cfg;
};

static int	cmd_migrate(const struct ctx *, int, char **);
static int	cmd_import_sqlite(const struct ctx *, int, char **);
static int	cmd_verify_sqlite(const struct ctx *, int, char **);
static int	cmd_check(const struct ctx *, int, char **);
static int	cmd_user(const struct ctx *, int, char **);
static int	cmd_assign_unowned(const struct ctx *, int, char **);

/* One line per subcommand. */
static const struct command {
	const char	*name;
	int		(*run)(const struct ctx *, int, char **);
	const char	*usage;		/* lines of "  synopsis  summary" */
} commands[] = {
	{ "migrate", cmd_migrate,
	  "  migrate up [VERSION]  apply pending migrations (up to VERSION) and\n"
	  "                        set the role's timeouts from TODO_DB_TIMEOUT\n"
	  "  migrate down [N]      revert the N newest migrations (default 1)\n"
	  "  migrate status        list migrations and their state\n" },
	{ "import-sqlite", cmd_import_sqlite, IMPORT_USAGE },
	{ "verify-sqlite", cmd_verify_sqlite, VERIFY_USAGE },
	{ "check", cmd_check, CHECK_USAGE },
	{ "user", cmd_user, USERS_USAGE },
	{ "assign-unowned", cmd_assign_unowned, ASSIGN_USAGE },
};

static void
usage(FILE *out)
{
	size_t i;

	fputs("usage: todoctl [--env-file FILE] [--sql-dir DIR] COMMAND "
	    "[ARGS...]\n"
	    "       todoctl --help | --version\n\ncommands:\n", out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fputs(commands[i].usage, out);
	fputs("\noptions:\n"
	    "  --env-file FILE  read KEY=VALUE lines into the environment\n"
	    "                   (variables already set win)\n"
	    "  --sql-dir DIR    migrations directory (default: $TODO_SQL_DIR,\n"
	    "                   else " TODO_SQL_DIR ")\n"
	    "  -h, --help       this text\n"
	    "  -V, --version    print the version\n"
	    "\nenvironment:\n"
	    "  DATABASE_URL     libpq connection string or URI; empty or unset\n"
	    "                   means libpq's defaults (PGHOST, PGDATABASE...).\n"
	    "                   Run migrations over a direct, not a pooled, host.\n"
	    "\nexit status:\n"
	    "  0  success\n"
	    "  1  error\n"
	    "  2  usage error\n"
	    "  3  migrate status: migrations are pending\n"
	    "  4  migrate status: an applied migration's file changed or is "
	    "missing\n"
	    "  5  verify-sqlite: rows missing, extra or different, or the id\n"
	    "     generator is not above the largest id\n"
	    "  6  import-sqlite, verify-sqlite: source rows were rejected by\n"
	    "     the import rules (listed in the reject file / the report)\n"
	    "  7  import-sqlite: conflicts with rows created or edited in the\n"
	    "     app were left alone (listed in the reject file)\n"
	    "  8  check: a problem was found (the lines marked PROBLEM)\n"
	    "  9  user, assign-unowned, import-sqlite/verify-sqlite --owner or\n"
	    "     --user-map: no account has that email address\n"
	    "  10  user add: an account with that email address exists\n"
	    "  11  user add, user reset-password: the password (or the new\n"
	    "     address) is refused, or the two entries differ; the reason\n"
	    "     is printed\n",
	    out);
}


static enum td_status
db_connect(const struct ctx *ctx, PGconn **out)
{
	*out = db_connect_admin(ctx->database_url, "todoctl",
	    "migrations work there, but DDL belongs on the direct host");
	return *out != NULL ? TD_OK : TD_EDB;
}

/* Strict positive int argument. */
static bool
parse_count(const char *s, int *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

static int
cmd_migrate(const struct ctx *ctx, int argc, char **argv)
{
	struct migrations *m = NULL;
	enum migrate_state state;
	enum td_status rc;
	PGconn *c = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	int code = EXIT_ERROR, arg = 0;

	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(sub, "up") == 0 || strcmp(sub, "down") == 0) {
		if (argc > 3 || (argc == 3 && !parse_count(argv[2], &arg))) {
			fprintf(stderr, "todoctl: migrate %s takes one number "
			    ">= 1\n", sub);
			return EXIT_USAGE;
		}
		if (argc < 3 && strcmp(sub, "down") == 0)
			arg = 1;
	} else if (strcmp(sub, "status") != 0 || argc != 2) {
		fprintf(stderr, "todoctl: migrate needs up, down or status\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	if (migrate_load(ctx->sql_dir, &m) != TD_OK)
		goto out;
	if (db_connect(ctx, &c) != TD_OK)
		goto out;
	/* Every deploy runs this: the place to keep the role's server-side
	 * timeouts in step with TODO_DB_TIMEOUT (they apply to new sessions,
	 * and pass through a transaction pooler, unlike startup options). */
	if (strcmp(sub, "up") == 0) {
		if ((rc = migrate_up(c, m, arg)) == TD_OK)
			rc = db_apply_server_timeouts(c, ctx->cfg->db_timeout);
	} else if (strcmp(sub, "down") == 0)
		rc = migrate_down(c, m, arg);
	else {
		if ((rc = migrate_status(c, m, stdout, &state)) == TD_OK &&
		    state != MIGRATE_CLEAN) {
			code = state == MIGRATE_PENDING ? EXIT_PENDING :
			    EXIT_MISMATCH;
			goto out;
		}
	}
	if (rc == TD_OK)
		code = EXIT_OK;
out:
	PQfinish(c);
	migrate_free(m);
	return code;
}

static int
cmd_import_sqlite(const struct ctx *ctx, int argc, char **argv)
{
	return import_sqlite_main(ctx->database_url, argc, argv);
}

static int
cmd_verify_sqlite(const struct ctx *ctx, int argc, char **argv)
{
	return verify_sqlite_main(ctx->database_url, argc, argv);
}

static int
cmd_check(const struct ctx *ctx, int argc, char **argv)
{
	return check_main(ctx->cfg, ctx->sql_dir, argc, argv);
}

static int
cmd_user(const struct ctx *ctx, int argc, char **argv)
{
	return users_main(ctx->cfg, ctx->database_url, argc, argv);
}

static int
cmd_assign_unowned(const struct ctx *ctx, int argc, char **argv)
{
	return assign_unowned_main(ctx->database_url, argc, argv);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "env-file", required_argument, NULL, 'e' },
		{ "sql-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct config cfg;
	struct ctx ctx;
	const char *env_file = NULL, *sql_dir = NULL;
	char err[512];
	size_t i;
	int ch;

	/* "+": options end at the command name; its own follow it. */
	while ((ch = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			env_file = optarg;
			break;
		case 's':
			sql_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("todoctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The same settings table as todo-fcgi: environment over env file. */
	if (config_load(&cfg, env_file, err, sizeof(err)) != TD_OK) {
		fprintf(stderr, "todoctl: %s\n", err);
		return EXIT_ERROR;
	}
	ctx.sql_dir = sql_dir != NULL ? sql_dir : cfg.sql_dir;
	ctx.database_url = cfg.database_url;
	ctx.cfg = &cfg;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(&ctx, argc, argv);
	fprintf(stderr, "todoctl: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return EXIT_USAGE;
}
