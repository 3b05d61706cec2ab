/*  vd_msg - the data envelope: one ZeroMQ frame of msgpack per message,
    extractor -> normalizer -> loader.

      [ 1, kind, run_id, seq, table, body ]

    version 1; kind VD_MSG_*; run_id (int64, ops.sync_runs.id); seq: the
    sender's sequence number within the run, starting at 1 (the
    normalizer keeps the extractor's); table: vd_table_id_t or -1; body: a
    map.

    RAW (extractor -> normalizer), body:
      {"source": "isavigne", "connector": "isv_main", "file": "ventes.csv",
       "cols": [input field name or nil, ...],     one per field position
       "units": "mag150 = 2\n...",                 optional unit table text
                                                   (vd_units file format)
       "rows": [[line, [field, ...]], ...          a record
                [line, nil, reason, raw], ...]}    a record already rejected
    CANON (normalizer -> loader), body:
      {"source": ..., "connector": ..., "file": ..., "rules": "<hex>",
       "rows": [[line, values, nil, nil|raw, warnings],
                [line, nil, reason, raw, warnings]]}
      rules: fingerprint of the normalizer's rules version and settings
      (VAT rate, time zone).
      values: one string, the table's carried columns in schema order as
      the fields of a PostgreSQL COPY text line (vd_copy: tab-separated,
      escaped, \N for NULL, t/f, arrays as {"a","b"} literals; no newline),
      which the loader checks and copies as it is. warnings: nil or
      [[field, reason, raw value], ...].
    END (extractor -> normalizer -> loader), table -1, body:
      {"connector": ..., "extracted": {"customers": 12, ...}, "records": N}
      records = number of rows in every RAW message of the run; the loader
      completes the run when it has handled that many (so it does not
      depend on message order across several normalizers).
    "ack": true in a RAW body (the normalizer copies it into the CANON
    body) marks an exactly-once batch, as the webhook gateway sends them:
    (run_id, seq) names the batch, which may arrive several times. The
    loader commits it once (ops.run_batches, in the batch's transaction,
    which also counts its rows as extracted), skips a copy already
    committed, and reports every committed or skipped batch on the
    control channel: {"type":"batch_committed","run_id":N,"batches":[seq]}.
    Such a run has no END: its gateway closes it.
      depend on message order across several normalizers). Optional:
      "deletes": N, the number of DELETE messages of the run (the loader
      also waits for those), and "reconciled": [table, ...], the tables
      whose complete list of present ids was sent (see DELETE).
    DELETE (extractor -> normalizer -> loader, passed through unchanged),
    body:
      {"source": "odoo", "connector": ..., "file": "sale.order",
       "mode": "listed" | "present", "ids": [source_id text, ...]}
      "listed": these rows of the table (source, source_id) are gone in
      the source (a cancelled order's lines). "present": these ids exist
      in the source; when END lists the table as reconciled, every row of
      that table and source whose id no "present" message of the run
      named is gone (a record deleted in the source). The loader applies
      deletions at the end of the run, after every row is committed, in
      the run's final transaction: a row of a table with an "active"
      column is marked active = false, any other row is deleted. They are
      counted apart ("deleted"), outside extracted = inserted + updated +
      unchanged + rejected.
    HASHES (extractor -> normalizer -> loader, passed through unchanged),
    one or more per file read with per-line hashes (iSaVigne), body:
      {"connector": ..., "file": "ventes.csv", "rules": "<normalizer
       rules the lines were compared under, or empty>",
       "lines": bin}    entries of VD_MSG_LINE_ENTRY bytes: the line
                        number (uint32, big-endian) then its 16-byte hash,
                        one per line of the file that was read (sent, or
                        left out as unchanged)
      END then also holds "hashes": the number of HASHES messages,
      "hashed": {file: entries}, and "skipped": {table: lines}, the lines
      left out as unchanged (counted in "extracted", never sent): the
      loader counts them unchanged and, in the run's last transaction,
      stores each file's set of hashes but those of rejected lines
      (ops.line_hashes).
*/
#ifndef VD_MSG_H_INCLUDED
#define VD_MSG_H_INCLUDED

#include "vd_error.h"
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    VD_MSG_RAW = 1,
    VD_MSG_CANON = 2,
    VD_MSG_END = 3,
    VD_MSG_DELETE = 4,
    VD_MSG_HASHES = 5
} vd_msg_kind_t;

#define VD_MSG_LINE_HASH 16                      /* bytes of a line's hash      */
#define VD_MSG_LINE_ENTRY (4 + VD_MSG_LINE_HASH) /* line number, then its hash */

#define VD_MSG_VERSION 1
#define VD_MSG_MAX_BYTES (64 * 1024 * 1024) /* one message, received     */

typedef struct {
    int kind;
    int64_t run_id;
    uint64_t seq;
    int table;
    const msgpack_object *body; /* a map; lives in the unpacked zone     */
} vd_msg_t;

/*  Writes the envelope header; the caller then packs the body map. */
void vd_msg_pack_header (msgpack_packer *pk, int kind, int64_t run_id, uint64_t seq, int table);
/*  Decodes and checks a frame: unpacked must be initialised by the caller
    (msgpack_unpacked_init) and destroyed after use of out. Returns 0, or
    -1 with err (wrong version, kind, shape, table out of range). */
int vd_msg_decode (const char *data, size_t len, msgpack_unpacked *unpacked, vd_msg_t *out,
                   vd_error_t *err);

/*  True when data holds one whole msgpack object whose arrays and maps
    do not announce more items than there are bytes left (msgpack-c
    allocates for the announced count before reading it: a 5-byte frame
    could ask for gigabytes). Linear, no allocation. */
bool vd_mp_plausible (const char *data, size_t len);

/*  Helpers over msgpack objects (NULL-safe; no allocation). */
const msgpack_object *vd_mp_get (const msgpack_object *map, const char *key);
/*  The string's bytes (not NUL-terminated) and length, or NULL when obj
    is not a string. */
const char *vd_mp_str (const msgpack_object *obj, size_t *len);
/*  Copies a string object into out (NUL-terminated, truncated to size);
    returns 0, -1 when obj is not a string. */
int vd_mp_copy (const msgpack_object *obj, char *out, size_t size);
/*  An integer object's value; -1 when not an integer. */
int vd_mp_int (const msgpack_object *obj, int64_t *out);
bool vd_mp_is_nil (const msgpack_object *obj);
/*  Packs a C string (or nil when s is NULL). */
/*  The write callback of every packer (msgpack_packer_init (&pk, &sb,
    vd_mp_write)): msgpack_sbuffer_write, remembering in this thread that
    one failed (no memory), so that no msgpack_pack_* result is lost:
    vd_mp_write_failed says whether one did since its last call (and
    forgets it); vd_pipe_send and the webhook spool ask it before a
    message leaves, and refuse a message built with a failed write. */
int vd_mp_write (void *data, const char *buf, size_t len);
bool vd_mp_write_failed (void);

void vd_mp_pack_str (msgpack_packer *pk, const char *s, size_t len);
void vd_mp_pack_cstr (msgpack_packer *pk, const char *s);

/*  Packs a whole RAW message but its rows: header, then the body map up
    to "rows" and the rows array header for nrows rows; the caller then
    appends the packed rows. units may be NULL. */
void vd_msg_pack_raw (msgpack_packer *pk, int64_t run_id, uint64_t seq, int table,
                      const char *source, const char *connector, const char *file,
                      const char *const *cols, size_t ncols, const char *units, size_t nrows);
/*  Packs a DELETE message but its ids: header, body map up to "ids" and
    the array header for nids ids; the caller then packs the ids (strings). */
void vd_msg_pack_delete (msgpack_packer *pk, int64_t run_id, uint64_t seq, int table,
                         const char *source, const char *connector, const char *file,
                         const char *mode, size_t nids);
/*  What an END message says (JSON members borrowed; NULL when absent). */
typedef struct {
    const json_t *extracted;  /* {table: count}                          */
    int64_t records;          /* rows in the run's RAW messages          */
    int64_t deletes;          /* DELETE messages                         */
    const json_t *reconciled; /* [table, ...]                            */
    const json_t *skipped;    /* {table: lines left out as unchanged}    */
    int64_t hashes;           /* HASHES messages (with hashed)           */
    const json_t *hashed;     /* {file: entries of its HASHES messages}  */
} vd_msg_end_t;

/*  Packs a whole END message. */
void vd_msg_pack_end (msgpack_packer *pk, int64_t run_id, uint64_t seq, const char *connector,
                      const vd_msg_end_t *end);
/*  Packs a whole HASHES message of n entries. */
void vd_msg_pack_hashes (msgpack_packer *pk, int64_t run_id, uint64_t seq, int table,
                         const char *connector, const char *file, const char *rules,
                         const uint8_t *entries, size_t n);

int vd_msg_test (bool verbose);

#endif
