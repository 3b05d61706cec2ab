/*  hook_spool - the gateway's durable spool: what it has acknowledged and
    the pipeline has not yet committed.

    <dir>/lock        held (flock) while a gateway uses the spool
    <dir>/id          the spool's id, made once ("webhook-<host>-<hex>"):
                      the owner of its runs (ops.sync_runs.extractor)
    <dir>/incoming/   <counter>.ev: events accepted, not yet in a batch
    <dir>/batches/<run>-<seq>/
                      the files of batch seq of run: sent to the pipeline,
                      not yet confirmed committed
    <dir>/state/<connector>.json
                      the connector's current run and next batch number

    A .ev file is msgpack: [1, connector, source, n] then n raw rows
    ([line, [field, ...]], see hook_event). It is written as a hidden
    temporary file, fsynced, renamed, and the folder fsynced, before any
    request it holds is answered: one group commit for every request that
    arrived meanwhile (a committer thread), so a burst costs a few fsyncs,
    not one per event. A batch is made by moving files into
    batches/<run>-<seq>.tmp/, then renaming that folder: a crash leaves
    either the files in incoming/ or a complete batch, never half.
*/
#ifndef HOOK_SPOOL_H_INCLUDED
#define HOOK_SPOOL_H_INCLUDED

#include "vendange.h"
#include "hook_event.h"

typedef struct hook_spool hook_spool_t;

/*  A committed .ev file. */
typedef struct {
    char name[32];
    char connector[72];
    int source; /* hook_source_t */
    size_t events;
    size_t bytes;
} hook_file_t;

/*  A batch read back: its rows (concatenated raw rows, packed). */
typedef struct {
    char connector[72];
    int source;
    size_t events;
    vd_buf_t rows;
} hook_batch_t;

typedef struct {
    int64_t run;
    uint64_t seq;
} hook_batch_id_t;

/*  Opens (creating it when missing) and locks the spool, recovers what a
    previous life left, starts the committer. max_bytes: past it, submits
    fail ("spool full"). NULL with err (another gateway holds it, no
    permission...). */
hook_spool_t *hook_spool_open (const char *dir, uint64_t max_bytes, vd_error_t *err);
/*  Stops the committer (queued submits fail) and unlocks. */
void hook_spool_destroy (hook_spool_t **self_p);
const char *hook_spool_id (const hook_spool_t *self);

/*  From any thread: makes rows (nevents packed raw rows) of connector
    durable. Returns 0 once fsynced; -1 with err when they could not be
    (spool full or unwritable, or no answer within timeout_ms: the events
    may still be spooled, which at-least-once forwarding allows). */
int hook_spool_submit (hook_spool_t *self, const char *connector, hook_source_t source,
                       const char *rows, size_t len, size_t nevents, int timeout_ms,
                       vd_error_t *err);

/*  The rest is for the forwarding thread only. */

/*  Files committed since the last call (and, the first time, those found
    at open), oldest first. *files is the caller's to free. */
size_t hook_spool_take_ready (hook_spool_t *self, hook_file_t **files);
/*  Complete batches found at open (sent before, maybe committed). */
size_t hook_spool_recovered (hook_spool_t *self, hook_batch_id_t **ids);
/*  Moves files into batch seq of run. Returns 0, -1 with err (then the
    files are back in incoming/). */
int hook_spool_batch_make (hook_spool_t *self, int64_t run, uint64_t seq, const hook_file_t *files,
                           size_t n, vd_error_t *err);
/*  Reads batch seq of run into out (hook_spool_batch_free after). */
int hook_spool_batch_read (hook_spool_t *self, int64_t run, uint64_t seq, hook_batch_t *out,
                           vd_error_t *err);
void hook_spool_batch_free (hook_batch_t *batch);
/*  Deletes a batch the loader confirmed committed. */
void hook_spool_batch_drop (hook_spool_t *self, int64_t run, uint64_t seq);

/*  A connector's state file (small text, durable when 0 returns). */
int hook_spool_state_save (hook_spool_t *self, const char *connector, const char *text,
                           vd_error_t *err);
/*  Its text (malloc'ed), NULL when none. */
char *hook_spool_state_load (hook_spool_t *self, const char *connector);
/*  The connectors that have a state file (names malloc'ed, and the array). */
size_t hook_spool_state_list (hook_spool_t *self, char ***names);

/*  Bytes held, and whether the last group commit failed. */
uint64_t hook_spool_bytes (hook_spool_t *self);
bool hook_spool_failing (hook_spool_t *self);

int hook_spool_test (bool verbose);

#endif
