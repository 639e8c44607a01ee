/* status.h - the one error enum every function in this project returns. */
#ifndef TODO_STATUS_H
#define TODO_STATUS_H

enum td_status {
	TD_OK = 0,
	TD_ENOMEM,     /* allocation failed or an arena hit its cap */
	TD_EINVAL,     /* malformed input (bad encoding, bad number, ...) */
	TD_ETOOBIG,    /* input over a configured limit */
	TD_ENOTFOUND,  /* no such row / route / file */
	TD_EDB,        /* database unavailable for now: down, timed out,
	                  read-only, overloaded (answer 503, retry later) */
	TD_ESYSTEM,    /* a system call failed; errno says why */
	TD_ECONFLICT,  /* a uniqueness or state conflict */
	TD_ESCHEMA,    /* the database schema is older than this build */
	TD_EINTERNAL,  /* a statement failed in a way that is our bug */
	TD_ENOSESSION, /* not signed in: no session, or it expired or ended */
};

const char *td_strerror(enum td_status s);

#endif
