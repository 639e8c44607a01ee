/* schema.h - the database schema version this build of the app expects. */
#ifndef TODO_SCHEMA_H
#define TODO_SCHEMA_H

/* The highest sql/NNN_*.sql file. The app refuses to start against an
 * older schema (migrate_current_version() below this): run
 * "todoctl migrate up" first. Bump it with each new sql/ file;
 * tests/test_migrate.c checks that it matches the highest file. */
#define TODO_SCHEMA_VERSION 6

#endif
