/*  vd_migrate - creates and updates the database schemas (see
    vd_migrate.c for the two parts and how a step is added).
*/
#ifndef VD_MIGRATE_H_INCLUDED
#define VD_MIGRATE_H_INCLUDED

#include "vd_db.h"

/*  Creates or updates the canonical and ops schemas (versioned, idempotent,
    under an advisory lock so concurrent services do not race). The
    canonical tables and columns come from vd_schema. Returns 0, -1. */
int vd_migrate (PGconn *conn, vd_error_t *err);

/*  Schema version after vd_migrate (for status). */
int vd_migrate_version (void);

#endif
