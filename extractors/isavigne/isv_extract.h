/*  isv_extract - one sync run over an export folder: lists the export
    files, skips those whose content hash is in the cursor, finds each
    file's header row, and streams its records as RAW messages, then the
    run's END. Memory stays flat whatever the file size (but for the set
    of per-line hashes of the file being read: 16 bytes a line).

    Per-line hashes: every line read is hashed (BLAKE2b-128 of its fields,
    keyed by what its canonical values depend on besides its bytes: the
    table, the columns' mapping, the unit table, the format). A line whose
    hash is in the set the orchestrator trusts for that file (the last
    good read) is unchanged: it is counted ("skipped" in END) and never
    sent. The hashes of the lines read go to the loader in HASHES
    messages, which keeps them as the file's next set.
*/
#ifndef ISV_EXTRACT_H_INCLUDED
#define ISV_EXTRACT_H_INCLUDED

#include "vendange.h"
#include "vd_ctl.h"
#include "vd_pipe.h"
#include "isv_lines.h"
#include "isv_mapping.h"
#include <jansson.h>

#define ISV_HEADER_SCAN 10 /* rows searched for the header row */

/*  Asks the orchestrator for the per-line hashes of a file read by an
    earlier run: returns the frame holding them (in no order, ISV_LINE_HASH
    bytes each; the caller destroys it) and the normalizer rules they were
    kept under, or NULL when there is no set to trust (then every line is
    sent). */
typedef zframe_t *(isv_lines_fn)(void *arg, const char *file, char *rules, size_t rules_size);

typedef struct {
    int64_t run_id;
    const char *connector;
    const char *export_path;
    const char *encoding; /* NULL: detect                     */
    const isv_mapping_t *mapping;
    const char *units;            /* unit table file text, or NULL    */
    const json_t *cursor_files;   /* {"file": "hash"} or NULL         */
    const json_t *cursor_lines;   /* {"file": run of its line hashes} */
    const json_t *cursor_layouts; /* {"file": [accepted columns]}, isv_layout */
    bool full;                    /* ignore the cursor                */
    bool full_snapshot;           /* the export is everything: read every
                                     file, list the ids of every table read
                                     whole (DELETE "present"), rows missing
                                     from it are deleted by the loader  */
    size_t batch_rows;            /* rows per RAW message             */
    zsock_t *output;              /* PUSH to the normalizer           */
    vd_ctl_t *ctl;                /* heartbeats and progress          */
    vd_pipe_stop_fn *stop;        /* asked while waiting: abort?      */
    void *stop_arg;
    isv_lines_fn *lines; /* the trusted per-line hashes of a file, or NULL */
    void *lines_arg;
    size_t preview_rows; /* isv_extract_preview: data rows per file */
} isv_job_t;

/*  Runs the job. Fills report with "files", "errors", "cursor_after"
    (JSON text), "records". A file whose column layout differs from the
    accepted one (isv_layout) is not read: status "layout_changed" with
    "columns_added" and "columns_missing", an error, and its old cursor
    entries kept; the cursor's "pending_layouts" holds its new layout. Returns 0 when the run went
   through (some files may have failed: they are in report.files with status "failed"), -1 with err
   when the whole run failed (missing folder, stopped). */
int isv_extract_run (const isv_job_t *job, json_t *report, vd_error_t *err);

/*  `connector test`: lists the export files job->export_path holds (only
    export_path and mapping are used), checks each is readable, and fills
    answer with "summary", "checks", "warnings" (a table without a file).
    Returns 0 when every check passed, -1 with err when the folder cannot
    be read or a file is unreadable (the checks still say which). */
int isv_extract_probe (const isv_job_t *job, json_t *answer, vd_error_t *err);

/*  The mapping page's preview: reads the first job->preview_rows data
    rows of every export file exactly as a run would (header, mapping,
    packaging of the products), sends nothing, and fills answer's
    "preview" with one entry per file: {"file", "table", "status",
    "header": [source column names], "raw": the RAW message a run would
    send, msgpack in base64 (the orchestrator runs the normalizer's rules
    on it), "error" when the file failed}. Returns 0, -1 with err when the
    folder cannot be read. */
int isv_extract_preview (const isv_job_t *job, json_t *answer, vd_error_t *err);

/*  XXH3-128 of a file's bytes as "x3-" and 32 hex digits (hex: 65 bytes
    at least; a change detector, see isv_lines). Returns 0, -1 with err. */
int isv_extract_hash (const char *path, char *hex, vd_error_t *err);

/*  Opens an export file for reading: never through a symbolic link, and
    only a regular file (not a FIFO, a device or a folder). Returns the
    descriptor, -1 with err saying why the file is refused. */
int isv_extract_open (const char *path, vd_error_t *err);

#endif
