/* store_people.c - see store_people.h. */
#include "store_people.h"

#include <stdio.h>
#include <string.h>

static const char *const reset_sql[] = {
	/* Sessions, todos and counts go with the users. */
	"TRUNCATE users, todos RESTART IDENTITY CASCADE",
	"INSERT INTO users (email, password_hash) VALUES "
	"('me@example.org', '$argon2id$x'), ('other@example.org', '$argon2id$x')",
	"INSERT INTO sessions (hash, user_id) VALUES "
	"(decode(repeat('01', 32), 'hex'), 1), (decode(repeat('02', 32), 'hex'), 2)",
};

static void
session_of(struct store_session *s, unsigned char b)
{
	unsigned char hash[32];

	memset(hash, b, sizeof(hash));
	store_session_init(s, hash, 604800, 2592000, 300);
}

int
store_people_reset(PGconn *admin, struct store_session *me,
    struct store_session *other)
{
	size_t i;

	for (i = 0; i < sizeof(reset_sql) / sizeof(reset_sql[0]); i++) {
		PGresult *r = PQexec(admin, reset_sql[i]);

		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "%s: %s", reset_sql[i], PQresultErrorMessage(r));
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	session_of(me, 1);
	session_of(other, 2);
	return 0;
}
