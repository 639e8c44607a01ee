/* status.c - names for enum td_status. */
#include "status.h"

const char *
td_strerror(enum td_status s)
{
	switch (s) {
	case TD_OK: return "ok";
	case TD_ENOMEM: return "out of memory";
	case TD_EINVAL: return "invalid input";
	case TD_ETOOBIG: return "over the size limit";
	case TD_ENOTFOUND: return "not found";
	case TD_EDB: return "database unavailable";
	case TD_ESYSTEM: return "system error";
	case TD_ECONFLICT: return "conflict";
	case TD_ESCHEMA: return "database schema too old";
	case TD_EINTERNAL: return "internal error";
	case TD_ENOSESSION: return "not signed in";
	}
	return "unknown error";
}
