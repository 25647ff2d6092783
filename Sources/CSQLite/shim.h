#ifndef GATEWAY_CSQLITE_SHIM_H
#define GATEWAY_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import; it tells SQLite to copy bound text.
static inline void (*gateway_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
#endif
