/*  load_skip - rows the loader need not send to PostgreSQL.

    Every canonical row carries content_hash: BLAKE2b-128 of its table
    name and of the COPY text of its compared columns (key included),
    written by the merge in the same statement as the row itself, so a
    hash can never describe content the row does not hold (a crash, a
    rollback, a deleted row take their hash with them). Another writer
    that changes a row's content outside the merge must set it to NULL.

    At the first batch of a table in a run, the loader reads the hashes
    of that table; a row whose hash is among them holds exactly what the
    export says and is counted unchanged without reaching the server.
    A key staged earlier in the same run, or present twice in a batch, is
    always staged (the later line wins). Keys kept in ops.key_map
    (products) and runs that must see every row (sync --full, connectors
    with full_snapshot) always stage everything.
*/
#ifndef LOAD_SKIP_H_INCLUDED
#define LOAD_SKIP_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

#define LOAD_SKIP_HASH 16                /* bytes of a content hash             */
#define LOAD_SKIP_MAX_ROWS (3000 * 1000) /* larger tables: compared in full */

typedef struct load_skip load_skip_t;

/*  The hashes of canonical table t (reads them). NULL with err on a
    database error; a table holding more than LOAD_SKIP_MAX_ROWS hashes
    gives a set that skips nothing. */
load_skip_t *load_skip_new (PGconn *conn, const vd_table_t *t, vd_error_t *err);
void load_skip_destroy (load_skip_t **self_p);

/*  Table id the set was read for. */
int load_skip_table (const load_skip_t *self);
/*  Hashes read. */
size_t load_skip_size (const load_skip_t *self);

/*  Keeps, in place, the rows of a batch that must be staged (COPY text
    lines at rows->data + start[i]; their hashes and key fingerprints in
    hash[i], key[i]); returns how many are kept, the others being
    unchanged. */
size_t load_skip_filter (load_skip_t *self, vd_buf_t *rows, size_t *start,
                         uint8_t (*hash)[LOAD_SKIP_HASH], uint64_t *key, size_t n);
/*  After the commit of a batch: its staged keys are never skipped again
    in this run. Returns 0, -1 out of memory (then the set skips nothing). */
int load_skip_staged (load_skip_t *self, const uint64_t *key, size_t n);

/*  64-bit fingerprint of a key (FNV-1a). */
uint64_t load_skip_key (const char *s, size_t len);

int load_skip_test (bool verbose);

#endif
