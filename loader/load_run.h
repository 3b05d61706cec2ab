/*  load_run - one run in flight in the loader: buffered canonical rows of
    one table, rejects and warnings, counts; flushed in one transaction per
    batch that writes rows, rejects, warnings and the run's counts together,
    so ops.run_tables is always exactly what is committed.
*/
#ifndef LOAD_RUN_H_INCLUDED
#define LOAD_RUN_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"
#include "vd_msg.h"
#include "load_sql.h"
#include <jansson.h>

typedef struct load_run load_run_t;

load_run_t *load_run_new (int64_t run_id);
void load_run_destroy (load_run_t **self_p);

int64_t load_run_id (const load_run_t *self);
/*  Rows buffered, not yet committed. */
size_t load_run_pending (const load_run_t *self);
/*  END has come and every record it counts is committed or buffered: the
    buffer is flushed now, not after the idle delay. */
bool load_run_received (const load_run_t *self);
/*  The table of the buffered rows, -1 when none. */
int load_run_table (const load_run_t *self);
/*  Adds the rows of a CANON message. Returns 0, -1 with err when the
    message is malformed (then no row of it was added). */
int load_run_add (load_run_t *self, const vd_msg_t *msg, vd_error_t *err);
/*  Records an END message (expected number of rows, extracted counts). */
int load_run_end (load_run_t *self, const vd_msg_t *msg, vd_error_t *err);
/*  Records a HASHES message (per-line hashes of a file read, load_lines).
    -1 with err when malformed. */
int load_run_hashes (load_run_t *self, const vd_msg_t *msg, vd_error_t *err);
/*  In the run's last transaction: the per-line hashes of the files read
    (ops.line_hashes). -1 with err (PERMANENT when the normalizer's rules
    changed under lines left out as unchanged). */
/*  In the run's last transaction: the aggregates counted while its sales
    lines were copied, when usable (load_agg_given). 1, 0, -1 with err. */
int load_run_agg_given (load_run_t *self, PGconn *conn, vd_error_t *err);
int load_run_store_lines (load_run_t *self, PGconn *conn, vd_error_t *err);
/*  Records a DELETE message (ids gone from the source, or present in
    it); applied by load_run_apply_deletes. -1 with err when malformed. */
int load_run_delete (load_run_t *self, const vd_msg_t *msg, vd_error_t *err);
/*  Applies the run's deletions (in the caller's transaction, after every
    row is committed) and adds them to ops.run_tables.deleted. sql: the
    array of every table's SQL. Returns 0, -1 with err. */
int load_run_apply_deletes (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err);
/*  True when END arrived and every row (and DELETE) of the run is handled. */
bool load_run_complete (const load_run_t *self);
/*  Rows committed so far. */
int64_t load_run_committed (const load_run_t *self);
/*  True once the run inserted or updated a customer row. */
bool load_run_customers_written (const load_run_t *self);
/*  Rows sent to the server so far: COPYed straight into their table, and
    staged and merged (rows found unchanged before are in neither). */
void load_run_ways (const load_run_t *self, int64_t *copied, int64_t *merged);

/*  True when msg is an exactly-once batch ("ack": true, see vd_msg.h). */
bool load_msg_is_ack (const vd_msg_t *msg);
/*  True once the run received an exactly-once batch (a webhook run). */
bool load_run_exactly_once (const load_run_t *self);
/*  True when batch seq of this run is buffered, not yet committed. */
bool load_run_has_batch (const load_run_t *self, uint64_t seq);
/*  The exactly-once batches the last flush committed (borrowed, valid
    until the next add); *count may be 0. */
const uint64_t *load_run_committed_batches (const load_run_t *self, size_t *count);

/*  Commits the buffered rows in one transaction: straight by COPY into
    the canonical table while none of their keys is there (a savepoint
    catches a key that is: that batch and the next few are merged), else
    staged and merged; rows a bad value makes the database refuse are
    isolated by halving and stored as rejects with the server's message.
    References to unknown customers and products become warnings. The
    run must still be running in ops.sync_runs when the transaction
    commits (vd_fence): else it is rolled back and 1 returned (err says
    why). Returns 0; -1 with err->kind
   TRANSIENT when the caller should retry later (buffer kept), PERMANENT when the run cannot go on.
 */
int load_run_flush (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err);
/*  Streams the buffer: when it may go straight into its table, its first
    rows open the flush's transaction and a COPY on conn, and the rows
    added since are sent to it, so that the server parses and indexes them
    while the loader decodes the next messages; load_run_flush ends it.
    While a run streams, conn is its own: the caller flushes it before any
    other use of the connection. 0, -1 with err (as load_run_flush). */
int load_run_stream (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err);
bool load_run_streaming (const load_run_t *self);
/*  Forgets the stream (the buffer stays, to be flushed again): connected,
    aborts its COPY and rolls its transaction back; else the connection is
    gone already. */
void load_run_stream_drop (load_run_t *self, bool connected);
/*  Writes the extracted counts of END, and its lines left out as
    unchanged (in the caller's transaction). */
int load_run_write_extracted (load_run_t *self, PGconn *conn, vd_error_t *err);

int load_run_test (bool verbose);

#endif
