/*  isv_extract - one sync run over an export folder. */
#include "isv_extract.h"
#include "isv_reader.h"
#include "vd_msg.h"
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#define BATCH_BYTES (1024 * 1024)
#define PROGRESS_MS 1000

typedef struct {
    const isv_job_t *job;
    const char *file; /* name within the folder          */
    const isv_table_map_t *table;
    const char *cols[ISV_MAX_FIELDS]; /* input fed by each column         */
    size_t ncols;
    bool strict_width;    /* CSV: a row must have ncols fields */
    msgpack_sbuffer rows; /* packed rows of the batch        */
    msgpack_packer pk;
    size_t nrows;
    msgpack_sbuffer msg;
    uint64_t *seq;
    int64_t *records;
    int64_t *last_progress;
    /* per-line hashes of the file being read */
    uint8_t key[ISV_LINE_HASH]; /* what a line's values depend on         */
    zframe_t *known;            /* the trusted set, NULL when none        */
    char rules[64];             /* normalizer rules the set was kept under */
    vd_buf_t entries;           /* HASHES entries not sent yet            */
    int64_t hashed, skipped;    /* lines hashed, left out, in the file    */
    int64_t *hash_msgs;         /* HASHES messages of the run             */
} s_file_t;

int
isv_extract_hash (const char *path, char *hex, vd_error_t *err)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read file: %s", strerror (errno));
        return -1;
    }
    crypto_generichash_state st;
    unsigned char digest[32];
    unsigned char buf[64 * 1024];
    crypto_generichash_init (&st, NULL, 0, sizeof digest);
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        crypto_generichash_update (&st, buf, n);
    bool failed = ferror (f);
    fclose (f);
    if (failed) {
        vd_error_set (err, VD_ERR_PERMANENT, "read error: %s", strerror (errno));
        return -1;
    }
    crypto_generichash_final (&st, digest, sizeof digest);
    sodium_bin2hex (hex, 65, digest, sizeof digest);
    return 0;
}

int
isv_extract_open (const char *path, vd_error_t *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        if (errno == ELOOP)
            vd_error_set (err, VD_ERR_PERMANENT, "export file is a symbolic link: refused");
        else
            vd_error_set (err, VD_ERR_PERMANENT, "cannot read file: %s", strerror (errno));
        snprintf (err->hint, sizeof err->hint,
                  "put the export file itself in the folder, not a link to it");
        return -1;
    }
    if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode)) {
        close (fd);
        vd_error_set (err, VD_ERR_PERMANENT, "export file is not a regular file: refused");
        snprintf (err->hint, sizeof err->hint,
                  "a FIFO, a device or a folder is never read as an export");
        return -1;
    }
    return fd;
}

static void
s_progress (s_file_t *f, bool force)
{
    int64_t now = vd_clock_ms ();
    vd_ctl_tick (f->job->ctl);
    if (!force && now - *f->last_progress < PROGRESS_MS)
        return;
    *f->last_progress = now;
    json_t *msg = json_pack ("{s:s, s:I, s:I}", "type", "progress", "run_id",
                             (json_int_t)f->job->run_id, "records", (json_int_t)*f->records);
    if (msg)
        vd_ctl_send (f->job->ctl, msg);
    json_decref (msg);
}

/*  Sends the batch: envelope, body with the file's context, then the
    rows already packed. Returns 0, -1 when stopped. */
static int
s_send_batch (s_file_t *f)
{
    if (f->nrows == 0)
        return 0;
    const isv_job_t *job = f->job;
    msgpack_sbuffer_clear (&f->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &f->msg, msgpack_sbuffer_write);
    vd_msg_pack_raw (&pk, job->run_id, ++*f->seq, f->table->table, "isavigne", job->connector,
                     f->file, f->cols, f->ncols, job->units, f->nrows);
    msgpack_sbuffer_write (&f->msg, f->rows.data, f->rows.size);
    *f->records += (int64_t)f->nrows;
    f->nrows = 0;
    msgpack_sbuffer_clear (&f->rows);
    if (vd_pipe_send (job->output, f->msg.data, f->msg.size, job->ctl, job->stop, job->stop_arg) <
        0)
        return -1;
    s_progress (f, false);
    return job->stop && job->stop (job->stop_arg) ? -1 : 0;
}

/*  Sends the pending HASHES entries. 0, -1 when stopped. */
static int
s_send_hashes (s_file_t *f)
{
    size_t n = f->entries.len / VD_MSG_LINE_ENTRY;
    if (n == 0)
        return 0;
    const isv_job_t *job = f->job;
    msgpack_sbuffer_clear (&f->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &f->msg, msgpack_sbuffer_write);
    vd_msg_pack_hashes (&pk, job->run_id, ++*f->seq, f->table->table, job->connector, f->file,
                        f->rules, (const uint8_t *)f->entries.data, n);
    vd_buf_reset (&f->entries);
    ++*f->hash_msgs;
    return vd_pipe_send (job->output, f->msg.data, f->msg.size, job->ctl, job->stop, job->stop_arg);
}

/*  The key of the file's line hashes: everything a line's canonical values
    depend on besides its fields, as the extractor knows it (the
    normalizer's rules and settings are checked apart, load_lines). */
static void
s_line_key (s_file_t *f)
{
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, ISV_LINE_HASH);
    char head[160];
    snprintf (head, sizeof head, "vendange-lines-1|isavigne|%s|%zu|%d|",
              vd_schema_table (f->table->table)->name, f->ncols, f->strict_width);
    crypto_generichash_update (&st, (const unsigned char *)head, strlen (head) + 1);
    for (size_t i = 0; i < f->ncols; i++) {
        const char *col = f->cols[i] ? f->cols[i] : "";
        crypto_generichash_update (&st, (const unsigned char *)col, strlen (col) + 1);
    }
    const char *units = f->job->units ? f->job->units : "";
    crypto_generichash_update (&st, (const unsigned char *)units, strlen (units) + 1);
    crypto_generichash_final (&st, f->key, ISV_LINE_HASH);
}

static int
s_hash_cmp (const void *a, const void *b)
{
    return memcmp (a, b, ISV_LINE_HASH);
}

/*  Hashes a valid row (its first width fields); adds its entry. Returns 1
    when the trusted set holds the hash (the line is unchanged), 0 when
    not, -1 when stopped. */
static int
s_hash_row (s_file_t *f, const isv_row_t *row, size_t width)
{
    uint8_t entry[VD_MSG_LINE_ENTRY];
    uint32_t line = row->line > UINT32_MAX ? UINT32_MAX : (uint32_t)row->line;
    entry[0] = (uint8_t)(line >> 24);
    entry[1] = (uint8_t)(line >> 16);
    entry[2] = (uint8_t)(line >> 8);
    entry[3] = (uint8_t)line;
    crypto_generichash_state st;
    crypto_generichash_init (&st, f->key, ISV_LINE_HASH, ISV_LINE_HASH);
    for (size_t i = 0; i < width; i++) {
        uint32_t len = i < row->nfields ? (uint32_t)row->lengths[i] : 0;
        crypto_generichash_update (&st, (const unsigned char *)&len, sizeof len);
        if (len)
            crypto_generichash_update (&st, (const unsigned char *)row->fields[i], len);
    }
    crypto_generichash_final (&st, entry + 4, ISV_LINE_HASH);
    f->hashed++;
    if (vd_buf_add (&f->entries, entry, sizeof entry) < 0)
        return -1;
    if (f->entries.len >= (size_t)ISV_HASH_BATCH * VD_MSG_LINE_ENTRY && s_send_hashes (f) < 0)
        return -1;
    return f->known &&
           bsearch (entry + 4, zframe_data (f->known), zframe_size (f->known) / ISV_LINE_HASH,
                    ISV_LINE_HASH, s_hash_cmp) != NULL;
}

static bool
s_blank_row (const isv_row_t *row)
{
    for (size_t i = 0; i < row->nfields; i++)
        for (const char *p = row->fields[i]; *p; p++)
            if (!isspace ((unsigned char)*p))
                return false;
    return true;
}

/*  Packs one record (or reject) into the batch. */
static int
s_add_row (s_file_t *f, const isv_row_t *row)
{
    char reason[128] = "";
    size_t width = row->nfields;
    if (!row->error && row->nfields != f->ncols) {
        bool extra_empty = true;
        for (size_t i = f->ncols; i < row->nfields; i++)
            extra_empty &= row->lengths[i] == 0;
        if (f->strict_width || (row->nfields > f->ncols && !extra_empty))
            snprintf (reason, sizeof reason, "%zu fields instead of %zu (wrong field count)",
                      row->nfields, f->ncols);
        width = f->ncols; /* spreadsheets: missing trailing cells are empty */
    }
    if (!row->error && !*reason) {
        int known = s_hash_row (f, row, width);
        if (known < 0)
            return -1;
        if (known) { /* unchanged since the last good read: not sent */
            f->skipped++;
            return 0;
        }
    }
    msgpack_pack_array (&f->pk, row->error || *reason ? 4 : 2);
    msgpack_pack_int64 (&f->pk, row->line);
    if (row->error || *reason) {
        msgpack_pack_nil (&f->pk);
        vd_mp_pack_cstr (&f->pk, row->error ? row->error : reason);
        vd_mp_pack_cstr (&f->pk, row->raw);
    } else {
        msgpack_pack_array (&f->pk, (uint32_t)width);
        for (size_t i = 0; i < width; i++)
            vd_mp_pack_str (&f->pk, i < row->nfields ? row->fields[i] : "",
                            i < row->nfields ? row->lengths[i] : 0);
    }
    f->nrows++;
    if (f->nrows >= f->job->batch_rows || f->rows.size >= BATCH_BYTES)
        return s_send_batch (f);
    return 0;
}

/*  Tries `row` as the header: fills f->cols; true when it maps at least
    two columns including every part of the table's key. */
static bool
s_try_header (s_file_t *f, const isv_row_t *row, vd_error_t *err)
{
    if (row->error || row->nfields < 2 || row->nfields > ISV_MAX_FIELDS)
        return false;
    char *names[ISV_MAX_FIELDS];
    vd_buf_t b;
    for (size_t i = 0; i < row->nfields; i++) {
        vd_buf_init (&b, 256);
        names[i] = vd_text_column_name (row->fields[i], row->lengths[i], &b) == 0 ? vd_buf_take (&b)
                                                                                  : strdup ("");
        vd_buf_free (&b);
    }
    size_t matched =
        isv_mapping_header (f->table, (const char *const *)names, row->nfields, f->cols);
    for (size_t i = 0; i < row->nfields; i++)
        free (names[i]);
    if (matched < 2)
        return false;
    f->ncols = row->nfields;
    /* every part of the key must have a column */
    const vd_table_t *t = vd_schema_table (f->table->table);
    for (int p = 0; p < 3 && t->id_parts[p].name; p++) {
        bool found = false;
        for (size_t i = 0; i < f->ncols && !found; i++)
            found = f->cols[i] && strcmp (f->cols[i], t->id_parts[p].name) == 0;
        if (!found) {
            vd_error_set (err, VD_ERR_PERMANENT, "no column for %s, part of the %s key",
                          t->id_parts[p].name, t->name);
            vd_error_at (err, f->file, row->line);
            snprintf (err->hint, sizeof err->hint,
                      "add the column to the export, or map it in a mapping file");
            return false;
        }
    }
    return true;
}

/*  Streams one file. Returns 0, 1 (empty file), -1 with err (file
    failed), -2 (stopped). */
static int
s_extract_file (s_file_t *f, const char *path, vd_error_t *err)
{
    isv_reader_t *reader = isv_reader_open_named (path, f->file, f->job->encoding, err);
    if (!reader) {
        vd_error_at (err, f->file, err->line);
        return -1;
    }
    f->strict_width = strcmp (isv_reader_format (reader), "csv") == 0;
    isv_row_t row;
    int rc, header_rows = 0;
    bool have_header = false;
    while ((rc = isv_reader_next (reader, &row, err)) == 1) {
        if (!have_header) {
            if (s_blank_row (&row) && !row.error)
                continue;
            have_header = s_try_header (f, &row, err);
            if (have_header)
                s_line_key (f);
            if (!have_header && (err->msg[0] || ++header_rows >= ISV_HEADER_SCAN))
                break;
            continue;
        }
        if (!row.error && s_blank_row (&row))
            continue;
        if (s_add_row (f, &row) < 0) {
            rc = -2;
            break;
        }
    }
    if (rc == 0 && (s_send_batch (f) < 0 || s_send_hashes (f) < 0))
        rc = -2;
    if (rc >= 0 && !have_header) {
        if (rc == 0 && header_rows == 0 && !err->msg[0])
            rc = 1; /* nothing but blank lines: an empty export */
        else {
            if (!err->msg[0]) {
                vd_error_set (err, VD_ERR_PERMANENT, "no header row found in the first %d rows",
                              ISV_HEADER_SCAN);
                snprintf (err->hint, sizeof err->hint, "expected column names such as %s",
                          f->table->nfields ? f->table->fields[0].columns[0] : "?");
            }
            rc = -1;
        }
    }
    if (rc == -1)
        vd_error_at (err, f->file, err->line);
    isv_reader_destroy (&reader);
    return rc;
}

typedef struct {
    char *name;
    size_t order; /* table position in the mapping */
    const isv_table_map_t *table;
} s_entry_t;

static int
s_entry_cmp (const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp (x->name, y->name);
}

static bool
s_export_extension (const char *name)
{
    const char *dot = strrchr (name, '.');
    return dot && (strcasecmp (dot, ".csv") == 0 || strcasecmp (dot, ".txt") == 0 ||
                   strcasecmp (dot, ".xlsx") == 0 || strcasecmp (dot, ".xls") == 0);
}

/*  The export files of the folder, in processing order. NULL with err
    when the folder cannot be read. */
static s_entry_t *
s_list (const isv_job_t *job, size_t *count, vd_error_t *err)
{
    DIR *dir = opendir (job->export_path);
    if (!dir) {
        vd_error_set (err, VD_ERR_PERMANENT, "%s \"%s\"",
                      errno == ENOENT ? "export folder not found" : "cannot read export folder",
                      job->export_path);
        vd_error_detail (err, "%s", strerror (errno));
        snprintf (err->hint, sizeof err->hint,
                  "check the connector's export_path and that this extractor's host sees it");
        return NULL;
    }
    s_entry_t *entries = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir (dir)) != NULL) {
        const isv_table_map_t *t = isv_mapping_match (job->mapping, de->d_name);
        if (de->d_name[0] == '.' || !t || !s_export_extension (de->d_name))
            continue;
        s_entry_t *grown = realloc (entries, (n + 1) * sizeof *entries);
        if (!grown)
            break;
        entries = grown;
        entries[n].name = strdup (de->d_name);
        entries[n].table = t;
        entries[n].order = 0;
        while (isv_mapping_at (job->mapping, entries[n].order) != t)
            entries[n].order++;
        n++;
    }
    closedir (dir);
    qsort (entries, n, sizeof *entries, s_entry_cmp);
    *count = n;
    return entries ? entries : calloc (1, sizeof *entries);
}

static void
s_check (json_t *checks, const char *check, bool ok, const char *message)
{
    json_array_append_new (
        checks, json_pack ("{s:s, s:b, s:s}", "check", check, "ok", ok, "message", message));
}

int
isv_extract_probe (const isv_job_t *job, json_t *answer, vd_error_t *err)
{
    json_t *checks = json_array (), *warnings = json_array ();
    json_object_set_new (answer, "checks", checks);
    json_object_set_new (answer, "warnings", warnings);
    size_t n = 0;
    s_entry_t *entries = s_list (job, &n, err);
    if (!entries) {
        s_check (checks, "export folder", false, err->msg);
        return -1;
    }
    s_check (checks, "export folder", true, job->export_path);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], check[300], message[200];
        snprintf (path, sizeof path, "%s/%s", job->export_path, entries[i].name);
        snprintf (check, sizeof check, "file %s", entries[i].name);
        struct stat st;
        vd_error_t ferr;
        vd_error_clear (&ferr);
        int fd = isv_extract_open (path, &ferr);
        bool ok = fd >= 0 && fstat (fd, &st) == 0;
        if (ok)
            snprintf (message, sizeof message, "%s, %lld bytes",
                      vd_schema_table (entries[i].table->table)->name, (long long)st.st_size);
        else
            snprintf (message, sizeof message, "%.190s", ferr.msg);
        if (fd >= 0)
            close (fd);
        s_check (checks, check, ok, message);
        bad += !ok;
    }
    for (size_t t = 0; isv_mapping_at (job->mapping, t); t++) {
        const isv_table_map_t *map = isv_mapping_at (job->mapping, t);
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = entries[i].table == map;
        if (!found)
            json_array_append_new (warnings, json_sprintf ("no export file for %s in the folder",
                                                           vd_schema_table (map->table)->name));
    }
    for (size_t i = 0; i < n; i++)
        free (entries[i].name);
    free (entries);
    json_object_set_new (answer, "summary",
                         json_sprintf ("export folder %s: %zu export file(s)%s", job->export_path,
                                       n, bad ? ", some unreadable" : ""));
    if (bad)
        return vd_error_set (err, VD_ERR_PERMANENT, "%d export file(s) cannot be read", bad);
    return 0;
}

/*  Sends END: extracted counts per table and the number of records. */
static int
s_send_end (const isv_job_t *job, const vd_msg_end_t *end, uint64_t seq)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    vd_msg_pack_end (&pk, job->run_id, seq, job->connector, end);
    int rc = vd_pipe_send (job->output, sb.data, sb.size, job->ctl, job->stop, job->stop_arg);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

/*  What a run gathers for its report, cursor and END. */
typedef struct {
    json_t *report;
    json_t *cursor;    /* {file: content hash}                       */
    json_t *lines;     /* {file: run whose per-line hashes it names}  */
    json_t *extracted; /* {table: lines read}                        */
    json_t *skipped;   /* {table: lines left out as unchanged}       */
    json_t *hashed;    /* {file: HASHES entries}                     */
} s_run_t;

static void
s_count (json_t *counts, const char *name, int64_t n)
{
    json_t *had = json_object_get (counts, name);
    json_object_set_new (counts, name, json_integer (json_integer_value (had) + n));
}

/*  Reads one changed file: first the trusted per-line hashes of its last
    good read, then its lines. 0, 1 (empty), -1 failed, -2 stopped. */
static int
s_read_file (const isv_job_t *job, const s_entry_t *e, s_file_t *f, const char *path,
             vd_error_t *err)
{
    f->file = e->name;
    f->table = e->table;
    f->hashed = f->skipped = 0;
    f->rules[0] = '\0';
    vd_buf_reset (&f->entries);
    f->known = job->lines && !job->full
                   ? job->lines (job->lines_arg, e->name, f->rules, sizeof f->rules)
                   : NULL;
    if (f->known)
        vd_info ("%s: %zu lines of its last read known, those unchanged are not sent", e->name,
                 zframe_size (f->known) / ISV_LINE_HASH);
    int rc = s_extract_file (f, path, err);
    zframe_destroy (&f->known);
    return rc;
}

/*  Extracts one listed file into the report. -1 when stopped. */
static int
s_run_file (const isv_job_t *job, const s_entry_t *e, s_file_t *f, s_run_t *r)
{
    char path[4096], hash[65];
    snprintf (path, sizeof path, "%s/%s", job->export_path, e->name);
    const char *table = vd_schema_table (e->table->table)->name;
    json_t *entry = json_pack ("{s:s, s:s}", "file", e->name, "table", table);
    vd_error_t err;
    vd_error_clear (&err);
    int64_t before = *f->records;
    const char *known = json_string_value (json_object_get (job->cursor_files, e->name));
    json_t *known_lines = json_object_get (job->cursor_lines, e->name);
    /* the file checked is the file read: the readers open it through its
       descriptor, whatever happens to the name meanwhile */
    int fd = isv_extract_open (path, &err);
    if (fd >= 0)
        snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    int rc = fd < 0 || isv_extract_hash (path, hash, &err) < 0 ? -1 : 0;
    bool read = false;
    if (rc == 0 && !job->full && known && strcmp (known, hash) == 0)
        json_object_set_new (entry, "status", json_string ("unchanged"));
    else if (rc == 0) {
        read = true;
        rc = s_read_file (job, e, f, path, &err);
        json_object_set_new (entry, "status",
                             json_string (rc == 0   ? "loaded"
                                          : rc == 1 ? "empty"
                                                    : "failed"));
        json_object_set_new (entry, "rows", json_integer (*f->records - before));
        if (f->skipped)
            json_object_set_new (entry, "unchanged_lines", json_integer (f->skipped));
    }
    if (fd >= 0)
        close (fd);
    if (rc >= 0)
        json_object_set_new (r->cursor, e->name, json_string (hash));
    else if (known) /* a failed file keeps its old hash: it is read again */
        json_object_set_new (r->cursor, e->name, json_string (known));
    if (rc >= 0 && read) { /* its lines' hashes, kept by the loader as of this run */
        json_object_set_new (r->hashed, e->name, json_integer (f->hashed));
        json_object_set_new (r->lines, e->name, json_integer (job->run_id));
        s_count (r->skipped, table, f->skipped);
    } else if (known_lines)
        json_object_set (r->lines, e->name, known_lines);
    if (rc == -1) {
        vd_error_at (&err, e->name, err.line);
        json_object_set_new (entry, "status", json_string ("failed"));
        json_object_set_new (entry, "error", json_string (err.msg));
        json_array_append_new (json_object_get (r->report, "errors"),
                               json_pack ("{s:s, s:I, s:s, s:s}", "file", e->name, "line",
                                          (json_int_t)err.line, "reason", err.msg, "hint",
                                          err.hint));
        vd_log_error (VD_LOG_WARN, &err);
    }
    s_count (r->extracted, table, *f->records - before + (rc >= 0 && read ? f->skipped : 0));
    json_array_append_new (json_object_get (r->report, "files"), entry);
    return rc == -2 ? -1 : 0;
}

int
isv_extract_run (const isv_job_t *job, json_t *report, vd_error_t *err)
{
    size_t count = 0;
    s_entry_t *entries = s_list (job, &count, err);
    if (!entries)
        return -1;
    s_run_t r = {.report = report,
                 .cursor = json_object (),
                 .lines = json_object (),
                 .extracted = json_object (),
                 .skipped = json_object (),
                 .hashed = json_object ()};
    json_object_set_new (report, "files", json_array ());
    json_object_set_new (report, "errors", json_array ());
    uint64_t seq = 0;
    int64_t records = 0, last_progress = 0, hash_msgs = 0;
    s_file_t f = {.job = job,
                  .seq = &seq,
                  .records = &records,
                  .last_progress = &last_progress,
                  .hash_msgs = &hash_msgs};
    msgpack_sbuffer_init (&f.rows);
    msgpack_sbuffer_init (&f.msg);
    msgpack_packer_init (&f.pk, &f.rows, msgpack_sbuffer_write);
    vd_buf_init (&f.entries, (size_t)(ISV_HASH_BATCH + 1) * VD_MSG_LINE_ENTRY);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = s_run_file (job, &entries[i], &f, &r);
    vd_msg_end_t end = {.extracted = r.extracted,
                        .records = records,
                        .skipped = r.skipped,
                        .hashes = hash_msgs,
                        .hashed = r.hashed};
    if (rc == 0 && s_send_end (job, &end, ++seq) < 0)
        rc = -1;
    if (rc < 0)
        vd_error_set (err, VD_ERR_PERMANENT, "extraction stopped before the end");
    json_t *cursor_doc = json_pack ("{s:O, s:O}", "files", r.cursor, "lines", r.lines);
    char *cursor_text = json_dumps (cursor_doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (cursor_doc);
    json_object_set_new (report, "cursor_after", json_string (cursor_text ? cursor_text : "{}"));
    json_object_set_new (report, "records", json_integer (records));
    free (cursor_text);
    json_decref (r.cursor);
    json_decref (r.lines);
    json_decref (r.extracted);
    json_decref (r.skipped);
    json_decref (r.hashed);
    for (size_t i = 0; i < count; i++)
        free (entries[i].name);
    free (entries);
    msgpack_sbuffer_destroy (&f.rows);
    msgpack_sbuffer_destroy (&f.msg);
    vd_buf_free (&f.entries);
    return rc;
}
