/*  load_sql - the loader's SQL for each canonical table, generated once
    from vd_schema: staging table, COPY column list, key map, merge,
    reference checks. No per-table SQL is written by hand.
*/
#ifndef LOAD_SQL_H_INCLUDED
#define LOAD_SQL_H_INCLUDED

#include "vendange.h"
#include "vd_copy.h"

typedef struct {
    char *stage_ddl;             /* CREATE TEMP TABLE stage_<t> ... ON COMMIT DELETE ROWS */
    char *copy;                  /* COPY stage_<t> (carried..., _ord, _file, _line) FROM STDIN */
    char *key_map;               /* NULL unless VD_TABLE_KEY_MAPPED: records first-seen
                                    keys; $1 table name                        */
    char *key_apply;             /* then gives staged rows their recorded key  */
    char *merge;                 /* returns one row: inserted, updated; a row is
                                    rewritten when its content_hash differs (its
                                    line changed since vendange loaded it)     */
    char *merge_full;            /* the same, rewriting every row whose content
                                    differs (sync --full, full snapshots)      */
    char *duplicates;            /* warnings for keys seen twice in a batch (into stage_warnings,
                                    load_warn); $1 run id, $2 table */
    char *direct;                /* COPY canonical.<t> (carried..., content_hash) FROM
                                    STDIN: new rows straight into the table; NULL
                                    for tables that always merge (key map, events) */
    vd_copy_bin_t *direct_types; /* non-NULL: direct is a binary COPY, its
                                    fields of these types (the row as staged
                                    up to its content hash, then the keys
                                    of VD_COL_INIT_KEY columns)     */
    size_t ndirect;              /* their count                      */
    size_t ndirect_staged;       /* of which the staged fields       */
    char *orphans;               /* warnings for unknown references of events (their
                                    customer is matched in SQL); NULL for other
                                    tables (load_refs checks those)            */
    char *deletion;              /* rows gone in the source (ids in stage_ids): marked
                                    active = false when the table has "active", else
                                    deleted; $1 source, $2 reconciled (bool); returns
                                    one row: the count                               */
} load_sql_t;

/*  The staging table of deleted / present ids (DELETE messages). */
#define LOAD_SQL_STAGE_IDS                                                                         \
    "CREATE TEMP TABLE IF NOT EXISTS stage_ids (mode \"char\", source_id text)"                    \
    " ON COMMIT DELETE ROWS"

/*  Builds the SQL of table id; binary: the direct COPY is binary when
    every column it writes has a binary form (vd_copy_bin_field).
    Returns 0, -1 (out of memory). */
int load_sql_build (int table_id, bool binary, load_sql_t *out);
void load_sql_free (load_sql_t *sql);

int load_sql_test (bool verbose);

#endif
