/*  load_warn - the warnings of the batch being flushed, stored as one
    summary per run, table, file, field and reason.

    A systematic problem (a column missing on every line of a million-line
    export) must not cost a row per line. The loader keeps a batch's
    warnings in memory (bounded by the batch) and, in the batch's own
    transaction, groups them by kind (table, file, field, reason): each
    kind adds its count to its run's row of ops.warning_summaries, which
    also keeps the first LOAD_WARN_EXAMPLES lines with their raw value,
    and merges its lines, as ranges (int8multirange), into
    ops.warning_lines: one row per block of 2^VD_WARN_BLOCK_BITS lines
    of the file, so a million consecutive lines cost a few ranges and a
    batch rewrites only the blocks it touches. Written with the batch's
    rows and counts, a summary is exactly what is committed; a flush that
    fails is rolled back and retried whole (load_warn_truncate puts the
    warnings back to where the batch's own ended).

    Warnings made in SQL (a key twice in the staged batch, an event's
    unknown reference: load_sql) are written one row each into the
    temporary table stage_warnings, and summarised with the others.
*/
#ifndef LOAD_WARN_H_INCLUDED
#define LOAD_WARN_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"
#include <msgpack.h>

#define LOAD_WARN_EXAMPLES 5                     /* lines kept with their raw value per summary */
#define LOAD_WARN_MAX ((size_t)16 * 1024 * 1024) /* warnings a batch holds at most  */

typedef struct load_warn load_warn_t;

load_warn_t *load_warn_new (void);
void load_warn_destroy (load_warn_t **self_p);

/*  Adds one warning. file and raw may be NULL (SQL NULL); lengths in
    bytes. Returns 0, -1 when out of memory or past LOAD_WARN_MAX. */
int load_warn_add (load_warn_t *self, const char *table, const char *file, size_t file_len,
                   int64_t line, const char *field, size_t field_len, const char *reason,
                   size_t reason_len, const char *raw, size_t raw_len);
/*  Adds a normalizer's warning, the msgpack array [field, reason, raw]
    (strings or nil). Returns 0; 1 when it is not of that shape (left
    out); -1 as load_warn_add. */
int load_warn_add_mp (load_warn_t *self, const char *table, const char *file, size_t file_len,
                      int64_t line, const msgpack_object *warning);

/*  Warnings held (a mark for load_warn_truncate). */
size_t load_warn_count (const load_warn_t *self);
/*  Forgets the warnings added after the first count. */
void load_warn_truncate (load_warn_t *self, size_t count);
/*  Forgets every warning (after their transaction committed). */
void load_warn_reset (load_warn_t *self);

/*  Makes this session's temporary tables (once per connection). */
int load_warn_prepare (PGconn *conn, vd_error_t *err);
/*  Adds the warnings held, and those SQL put into stage_warnings, to the
    run's summaries, in the caller's transaction. staged: whether SQL may
    have written into stage_warnings in it (else, with no warning held,
    nothing is sent). The warnings stay held. Returns 0, -1 with err. */
int load_warn_write (load_warn_t *self, PGconn *conn, const char *run_text, bool staged,
                     vd_error_t *err);

int load_warn_test (bool verbose);

#endif
