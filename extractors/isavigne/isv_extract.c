/*  isv_extract - one sync run over an export folder. */
#include "isv_extract.h"
#include "isv_layout.h"
#include "isv_packaging.h"
#include "isv_reader.h"
#include "vd_msg.h"
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#define XXH_INLINE_ALL /* header only: nothing to link */
#include <xxhash.h>

#define BATCH_BYTES (1024 * 1024)
#define PROGRESS_MS 1000
#define UNKNOWN_LINES 10 /* lines listed in a file's unit_unknown summary */
#define PRESENT_IDS 5000 /* ids per DELETE "present" message          */

/*  A full snapshot: the ids of the records read, sent as DELETE
    "present" messages per table; the tables read whole are reconciled. */
typedef struct {
    bool on;
    vd_buf_t ids; /* NUL-separated ids of the current file, not sent yet */
    size_t nids;
    int64_t deletes; /* DELETE messages sent                          */
    int files[VD_TABLE_COUNT], whole[VD_TABLE_COUNT]; /* files, files read whole */
} s_snapshot_t;

/*  Where the inputs a derivation needs are in a row (-1: no column). */
typedef struct {
    int code, unit, quantity, price_unit, total, total_incl_vat, volume, pack_size;
} s_inputs_t;

/*  What a file's lines derived, reported once per file in the run. */
typedef struct {
    int64_t total;        /* price_total from the unit price or the incl.-VAT total */
    int64_t unit;         /* unit from the product's packaging */
    int64_t unit_unknown; /* no unit, no packaging known */
    long unknown_lines[UNKNOWN_LINES];
} s_derived_t;

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
    isv_lines_t *lines;
    zframe_t *known;            /* the trusted set until the header is read, NULL: none */
    char rules[64];             /* normalizer rules the set was kept under */
    int64_t skipped;            /* lines left out as unchanged             */
    int64_t *hash_msgs;         /* HASHES messages of the run           */
    isv_packaging_t *packaging; /* the export's products (NULL: none)   */
    bool collect;               /* reading the packagings, not sending  */
    bool attach;                /* rows get the "packaging" input       */
    s_inputs_t in;
    s_derived_t derived;
    s_snapshot_t *snapshot;
    int id_pos[3];           /* columns of the table's id parts (-1: none) */
    json_t *preview;         /* the file's preview entry (previews only) */
    isv_reader_t *reader;    /* the file being read                   */
    json_t *layout;          /* its header's column layout (isv_layout) */
    json_t *added, *missing; /* its changes from the accepted layout */
} s_file_t;

int
isv_extract_hash (const char *path, char *hex, vd_error_t *err)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read file: %s", strerror (errno));
        return -1;
    }
    XXH3_state_t *st = XXH3_createState ();
    unsigned char buf[256 * 1024];
    bool failed = !st || XXH3_128bits_reset (st) != XXH_OK;
    size_t n;
    while (!failed && (n = fread (buf, 1, sizeof buf, f)) > 0)
        failed = XXH3_128bits_update (st, buf, n) != XXH_OK;
    failed |= ferror (f) != 0;
    fclose (f);
    if (failed) {
        XXH3_freeState (st);
        vd_error_set (err, VD_ERR_PERMANENT, "read error: %s", strerror (errno));
        return -1;
    }
    /* "x3-" and 32 hex digits: a file read is compared again once after
       the hash changed from BLAKE2b (64 hex digits) */
    XXH128_canonical_t digest;
    XXH128_canonicalFromHash (&digest, XXH3_128bits_digest (st));
    XXH3_freeState (st);
    memcpy (hex, "x3-", 3);
    sodium_bin2hex (hex + 3, 33, digest.digest, sizeof digest.digest);
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
    msgpack_packer_init (&pk, &f->msg, vd_mp_write);
    vd_msg_pack_raw (&pk, job->run_id, ++*f->seq, f->table->table, "isavigne", job->connector,
                     f->file, f->cols, f->ncols + f->attach, job->units, f->nrows);
    vd_mp_write (&f->msg, f->rows.data, f->rows.size);
    *f->records += (int64_t)f->nrows;
    f->nrows = 0;
    msgpack_sbuffer_clear (&f->rows);
    if (f->preview) { /* kept for the answer, not sent */
        size_t size = sodium_base64_encoded_len (f->msg.size, sodium_base64_VARIANT_ORIGINAL);
        char *text = malloc (size);
        if (!text)
            return -1;
        sodium_bin2base64 (text, size, (const unsigned char *)f->msg.data, f->msg.size,
                           sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new (f->preview, "raw", json_string (text));
        free (text);
        return 0;
    }
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
    size_t n;
    const uint8_t *entries = isv_lines_entries (f->lines, &n);
    if (n == 0)
        return 0;
    const isv_job_t *job = f->job;
    msgpack_sbuffer_clear (&f->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &f->msg, vd_mp_write);
    vd_msg_pack_hashes (&pk, job->run_id, ++*f->seq, f->table->table, job->connector, f->file,
                        f->rules, entries, n);
    isv_lines_take (f->lines);
    ++*f->hash_msgs;
    return vd_pipe_send (job->output, f->msg.data, f->msg.size, job->ctl, job->stop, job->stop_arg);
}

/*  Sends the HASHES entries once a message's worth is pending. 0, -1. */
static int
s_hashes_due (s_file_t *f)
{
    size_t n;
    isv_lines_entries (f->lines, &n);
    return n >= ISV_HASH_BATCH ? s_send_hashes (f) : 0;
}

/*  The key of the file's line hashes: everything a line's canonical values
    depend on besides its bytes, as the extractor knows it (the
    normalizer's rules and settings are checked apart, load_lines): the
    table, the columns, how the file is read (format, encoding,
    separator), the unit table, and the products' packagings when lines
    may carry one. Starts the file's hashes with it and the trusted set. */
static int
s_line_key (s_file_t *f, const isv_reader_t *reader)
{
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, ISV_LINE_HASH);
    char head[200];
    snprintf (head, sizeof head, "vendange-lines-2|isavigne|%s|%zu|%d|%s|%s|%d|",
              vd_schema_table (f->table->table)->name, f->ncols, f->strict_width,
              isv_reader_format (reader), isv_reader_encoding (reader),
              isv_reader_separator (reader));
    crypto_generichash_update (&st, (const unsigned char *)head, strlen (head) + 1);
    for (size_t i = 0; i < f->ncols; i++) {
        const char *col = f->cols[i] ? f->cols[i] : "";
        crypto_generichash_update (&st, (const unsigned char *)col, strlen (col) + 1);
    }
    const char *units = f->job->units ? f->job->units : "";
    crypto_generichash_update (&st, (const unsigned char *)units, strlen (units) + 1);
    if (f->attach) {
        uint8_t digest[ISV_LINE_HASH];
        isv_packaging_digest (f->packaging, digest);
        crypto_generichash_update (&st, digest, sizeof digest);
    }
    uint8_t key[ISV_LINE_HASH];
    crypto_generichash_final (&st, key, ISV_LINE_HASH);
    return isv_lines_begin (f->lines, key, &f->known);
}

/*  Hashes a valid spreadsheet row (its first width fields, and the
    packaging the extractor attaches to it, when it does). Returns 1 when
    the trusted set holds it (the line is unchanged), 0 when not, -1 when
    stopped. */
static int
s_hash_row (s_file_t *f, const isv_row_t *row, size_t width, const char *attached)
{
    int known = isv_lines_fields (f->lines, row->line, row->fields, row->lengths, row->nfields,
                                  width, attached);
    return known < 0 || s_hashes_due (f) < 0 ? -1 : known;
}

/*  A lazy record that may read as blank (only spaces, separators and
    quotes): converted and judged as a row, never hashed. */
static bool
s_blank_bytes (const isv_row_t *row, char separator)
{
    for (size_t i = 0; i < row->nbytes; i++) {
        unsigned char c = (unsigned char)row->bytes[i];
        if (!isspace (c) && c != (unsigned char)separator && c != '"')
            return false;
    }
    return true;
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

static int
s_input_at (const s_file_t *f, const char *input)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (f->cols[i] && strcmp (f->cols[i], input) == 0)
            return (int)i;
    return -1;
}

/*  The columns of the inputs derivations use; a sales or stock file whose
    mapping gives no packaging gets one more column, "packaging": its
    product's, on the lines without a unit. */
static void
s_find_inputs (s_file_t *f)
{
    f->in =
        (s_inputs_t){s_input_at (f, f->table->table == VD_TABLE_PRODUCTS ? "code" : "product_code"),
                     s_input_at (f, "unit"),
                     s_input_at (f, "quantity_units"),
                     s_input_at (f, "price_unit"),
                     s_input_at (f, "price_total"),
                     s_input_at (f, "price_total_incl_vat"),
                     s_input_at (f, "volume"),
                     s_input_at (f, "pack_size")};
    const vd_table_t *table = vd_schema_table (f->table->table);
    for (int i = 0; i < 3; i++)
        f->id_pos[i] = table->id_parts[i].name ? s_input_at (f, table->id_parts[i].name) : -1;
    int t = f->table->table;
    f->attach = !f->collect && f->packaging && (t == VD_TABLE_SALES || t == VD_TABLE_STOCK) &&
                s_input_at (f, "packaging") < 0 && f->ncols < ISV_MAX_FIELDS;
    if (f->attach)
        f->cols[f->ncols] = "packaging";
    memset (&f->derived, 0, sizeof f->derived);
}

/*  Field i of row, NULL when the column is missing or the field blank. */
static const char *
s_value (const isv_row_t *row, int i, size_t *len)
{
    if (i < 0 || (size_t)i >= row->nfields)
        return NULL;
    const char *s = row->fields[i];
    size_t n = row->lengths[i];
    while (n && isspace ((unsigned char)*s))
        s++, n--;
    while (n && isspace ((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return n ? s : NULL;
}

static bool
s_is_number (const isv_row_t *row, int i)
{
    size_t len;
    const char *s = s_value (row, i, &len);
    vd_buf_t b;
    vd_buf_init (&b, 128);
    bool ok = s && vd_number_parse (s, len, &b) == 0;
    vd_buf_free (&b);
    return ok;
}

/*  The packaging a line carries (its product's when it has no unit, else
    ""), and what the line derives, counted for the file's report. */
static const char *
s_line_packaging (s_file_t *f, const isv_row_t *row)
{
    size_t len, code_len;
    const char *pack = NULL;
    if (f->attach && !s_value (row, f->in.unit, &len)) {
        const char *code = s_value (row, f->in.code, &code_len);
        pack = code ? isv_packaging_find (f->packaging, code, code_len) : NULL;
        if (pack)
            f->derived.unit++;
        else if (f->derived.unit_unknown++ < UNKNOWN_LINES)
            f->derived.unknown_lines[f->derived.unit_unknown - 1] = row->line;
    }
    if (f->table->table == VD_TABLE_SALES && !s_is_number (row, f->in.total) &&
        (s_is_number (row, f->in.total_incl_vat) ||
         (s_is_number (row, f->in.quantity) && s_is_number (row, f->in.price_unit))))
        f->derived.total++;
    return pack ? pack : "";
}

/*  Product file, first pass: its packagings. */
static void
s_collect (s_file_t *f, const isv_row_t *row)
{
    size_t code_len = 0, volume_len = 0, pack_len = 0;
    const char *code = s_value (row, f->in.code, &code_len);
    const char *volume = s_value (row, f->in.volume, &volume_len);
    const char *pack = s_value (row, f->in.pack_size, &pack_len);
    if (code && volume && !row->error)
        (void)isv_packaging_add (f->packaging, code, code_len, volume, volume_len, pack, pack_len);
}

/*  Sends the ids listed so far as one DELETE "present" message. Returns
    0, -1 when stopped. */
static int
s_send_present (s_file_t *f)
{
    s_snapshot_t *snap = f->snapshot;
    const isv_job_t *job = f->job;
    msgpack_sbuffer_clear (&f->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &f->msg, vd_mp_write);
    vd_msg_pack_delete (&pk, job->run_id, ++*f->seq, f->table->table, "isavigne", job->connector,
                        f->file, "present", snap->nids);
    const char *id = snap->ids.data;
    for (size_t i = 0; i < snap->nids; i++) {
        vd_mp_pack_cstr (&pk, id);
        id += strlen (id) + 1;
    }
    snap->nids = 0;
    vd_buf_reset (&snap->ids);
    snap->deletes++;
    return vd_pipe_send (job->output, f->msg.data, f->msg.size, job->ctl, job->stop, job->stop_arg);
}

/*  Full snapshot: lists the id of a record read (a line the normalizer
    will reject is listed too: its row is not missing from the export). */
static int
s_list_id (s_file_t *f, const isv_row_t *row)
{
    s_snapshot_t *snap = f->snapshot;
    if (!snap || !snap->on || f->collect)
        return 0;
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        if (f->id_pos[i] >= 0 && (size_t)f->id_pos[i] < row->nfields && row->fields) {
            parts[i] = row->fields[f->id_pos[i]];
            lens[i] = row->lengths[f->id_pos[i]];
        }
    size_t before = snap->ids.len;
    int bad;
    if (vd_schema_source_id_build (vd_schema_table (f->table->table), parts, lens, &snap->ids,
                                   &bad) < 0 ||
        vd_buf_addc (&snap->ids, '\0') < 0) {
        snap->ids.len = before; /* no usable key: nothing to keep */
        return 0;
    }
    return ++snap->nids >= PRESENT_IDS ? s_send_present (f) : 0;
}

/*  Packs one record (or reject) into the batch. */
static int
s_add_row (s_file_t *f, const isv_row_t *row, bool hashed)
{
    char reason[128] = "";
    size_t width = row->nfields;
    if (f->collect) {
        s_collect (f, row);
        return 0;
    }
    if (s_list_id (f, row) < 0)
        return -1;
    if (!row->error && row->nfields != f->ncols) {
        bool extra_empty = true;
        for (size_t i = f->ncols; i < row->nfields; i++)
            extra_empty &= row->lengths[i] == 0;
        if (f->strict_width || (row->nfields > f->ncols && !extra_empty))
            snprintf (reason, sizeof reason, "%zu fields instead of %zu (wrong field count)",
                      row->nfields, f->ncols);
        width = f->ncols; /* spreadsheets: missing trailing cells are empty */
    }
    /* what the line derives (counted for every line, sent or not) */
    const char *pack = row->error || *reason ? "" : s_line_packaging (f, row);
    if (!row->error && !*reason && !f->preview && !hashed) {
        int known = s_hash_row (f, row, width, f->attach ? pack : NULL);
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
        vd_mp_pack_cstr (&f->pk, isv_reader_raw (f->reader, row));
    } else {
        msgpack_pack_array (&f->pk, (uint32_t)(width + f->attach));
        for (size_t i = 0; i < width; i++)
            vd_mp_pack_str (&f->pk, i < row->nfields ? row->fields[i] : "",
                            i < row->nfields ? row->lengths[i] : 0);
        if (f->attach)
            vd_mp_pack_cstr (&f->pk, pack);
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
    if (matched >= 2) {
        json_decref (f->layout);
        f->layout = isv_layout_of ((const char *const *)names, row->nfields);
    }
    for (size_t i = 0; i < row->nfields; i++)
        free (names[i]);
    if (matched < 2)
        return false;
    f->ncols = row->nfields;
    s_find_inputs (f);
    if (f->preview) {
        json_t *header = json_array ();
        for (size_t i = 0; i < row->nfields; i++)
            json_array_append_new (header, json_stringn (row->fields[i], row->lengths[i]));
        json_object_set_new (f->preview, "header", header);
    }
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

/*  Forgets the layout of the file read before. */
static void
s_layout_reset (s_file_t *f)
{
    json_decref (f->layout);
    json_decref (f->added);
    json_decref (f->missing);
    f->layout = f->added = f->missing = NULL;
}

/*  True when the header just found differs from the file's accepted
    layout (a run's read only; out of memory counts as a change). */
static bool
s_layout_changed (s_file_t *f)
{
    if (f->preview || f->collect)
        return false;
    const json_t *accepted = json_object_get (f->job->cursor_layouts, f->file);
    return isv_layout_compare (f->layout, accepted, &f->added, &f->missing) != 0;
}

/*  Streams one file. Returns 0, 1 (empty file), 2 (its layout changed:
    nothing read), -1 with err (file failed), -2 (stopped). */
static int
s_extract_file (s_file_t *f, const char *path, vd_error_t *err)
{
    isv_reader_t *reader =
        f->lines ? isv_reader_open_named (path, f->file, f->job->encoding, err) : NULL;
    if (!f->lines)
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    if (!reader) {
        vd_error_at (err, f->file, err->line);
        return -1;
    }
    f->strict_width = strcmp (isv_reader_format (reader), "csv") == 0;
    f->reader = reader;
    isv_row_t row;
    int rc, header_rows = 0;
    bool have_header = false;
    while ((rc = isv_reader_next (reader, &row, err)) == 1) {
        if (!have_header) {
            if (s_blank_row (&row) && !row.error)
                continue;
            have_header = s_try_header (f, &row, err);
            if (have_header && s_layout_changed (f)) {
                rc = 2;
                break;
            }
            if (have_header && s_line_key (f, reader) < 0) {
                vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
                rc = -1;
                break;
            }
            /* CSV lines are hashed on their bytes, converted when sent */
            if (have_header && !f->preview && !f->collect)
                isv_reader_set_lazy (reader, true);
            if (!have_header && (err->msg[0] || ++header_rows >= ISV_HEADER_SCAN))
                break;
            continue;
        }
        bool hashed = row.bytes != NULL;
        if (row.bytes && !s_blank_bytes (&row, isv_reader_separator (reader))) {
            int known = isv_lines_bytes (f->lines, row.line, row.bytes, row.nbytes);
            if (known < 0 || s_hashes_due (f) < 0) {
                rc = -2;
                break;
            }
            if (known) { /* unchanged since the last good read: not sent */
                f->skipped++;
                continue;
            }
        }
        if (isv_reader_convert (reader, &row, err) < 0) {
            rc = -1;
            break;
        }
        if (!row.error && s_blank_row (&row))
            continue;
        if (s_add_row (f, &row, hashed) < 0) {
            rc = -2;
            break;
        }
        if (f->preview && f->nrows >= f->job->preview_rows) {
            rc = 0; /* enough for a preview */
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
    f->reader = NULL;
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
    *count = n;
    if (!entries) /* no export file; not given to qsort, whose base is never NULL
                     (the compiler takes it at its word and drops this test) */
        return calloc (1, sizeof *entries);
    qsort (entries, n, sizeof *entries, s_entry_cmp);
    return entries;
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

/*  Sends END: extracted counts per table and the number of records; for a
    full snapshot, its DELETE messages and the tables every file of which
    was read whole (not one failed; an empty file reconciles nothing). */
static int
s_send_end (const isv_job_t *job, vd_msg_end_t *end, uint64_t seq, const s_snapshot_t *snap)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, vd_mp_write);
    json_t *reconciled = snap->on ? json_array () : NULL;
    for (int t = 0; reconciled && t < VD_TABLE_COUNT; t++)
        if (snap->files[t] && snap->whole[t] == snap->files[t])
            json_array_append_new (reconciled, json_string (vd_schema_table (t)->name));
    end->deletes = snap->deletes;
    end->reconciled = reconciled;
    vd_msg_pack_end (&pk, job->run_id, seq, job->connector, end);
    json_decref (reconciled);
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
    json_t *layouts;   /* {file: accepted layout}                    */
    json_t *pending;   /* {file: {"columns", "added", "missing"}}     */
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
    f->skipped = 0;
    f->rules[0] = '\0';
    static const uint8_t none[ISV_LINE_HASH];
    if (f->lines && isv_lines_begin (f->lines, none, NULL) < 0) /* no entry, no count yet */
        return -1;
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

/*  The file's entry says which values its lines derived ("derived") and
    how many lines have neither a unit nor a product packaging
    ("unit_unknown", the first lines in "unit_unknown_lines"): one summary
    per file instead of a warning per line. */
static void
s_report_derived (const s_file_t *f, json_t *entry)
{
    json_t *derived = json_array ();
    if (f->derived.total)
        json_array_append_new (derived, json_string ("price_total"));
    if (f->derived.unit)
        json_array_append_new (derived, json_string ("unit"));
    json_object_set_new (entry, "derived", derived);
    if (!f->derived.unit_unknown)
        return;
    json_t *lines = json_array ();
    for (int64_t i = 0; i < f->derived.unit_unknown && i < UNKNOWN_LINES; i++)
        json_array_append_new (lines, json_integer (f->derived.unknown_lines[i]));
    json_object_set_new (entry, "unit_unknown", json_integer (f->derived.unit_unknown));
    json_object_set_new (entry, "unit_unknown_lines", lines);
}

/*  What one run (or preview) of a folder holds: the files listed, the
    products' packagings, the message sequence and counts. */
typedef struct {
    s_entry_t *entries;
    size_t count;
    isv_packaging_t *packaging;
    uint64_t seq;
    int64_t records, last_progress;
    int64_t hash_msgs; /* HASHES messages sent */
} s_session_t;

/*  A file reader of the session (file and table set by the caller). */
static void
s_file_init (s_file_t *f, const isv_job_t *job, s_session_t *s, s_snapshot_t *snapshot)
{
    *f = (s_file_t){.job = job,
                    .seq = &s->seq,
                    .records = &s->records,
                    .last_progress = &s->last_progress,
                    .packaging = s->packaging,
                    .snapshot = snapshot,
                    .hash_msgs = &s->hash_msgs};
    f->lines = isv_lines_new ();
    msgpack_sbuffer_init (&f->rows);
    msgpack_sbuffer_init (&f->msg);
    msgpack_packer_init (&f->pk, &f->rows, vd_mp_write);
}

static void
s_file_free (s_file_t *f)
{
    msgpack_sbuffer_destroy (&f->rows);
    msgpack_sbuffer_destroy (&f->msg);
    isv_lines_destroy (&f->lines);
    zframe_destroy (&f->known);
    s_layout_reset (f);
}

/*  Reads the packaging of every product of the export's product files
    (changed or not: they are small), for the lines without a unit. A file
    that cannot be read is reported by its own extraction. */
static void
s_read_packagings (const isv_job_t *job, s_session_t *s)
{
    for (size_t i = 0; s->packaging && i < s->count; i++) {
        if (s->entries[i].table->table != VD_TABLE_PRODUCTS)
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", job->export_path, s->entries[i].name);
        s_file_t f;
        s_file_init (&f, job, s, NULL);
        f.file = s->entries[i].name;
        f.table = s->entries[i].table;
        f.collect = true;
        vd_error_t err;
        vd_error_clear (&err);
        (void)s_extract_file (&f, path, &err); /* errors: reported by the real pass */
        s_file_free (&f);
    }
}

/*  Lists the folder and reads the packagings. Returns 0, -1 with err. */
static int
s_session_open (const isv_job_t *job, s_session_t *s, vd_error_t *err)
{
    *s = (s_session_t){0};
    if (!(s->entries = s_list (job, &s->count, err)))
        return -1;
    s->packaging = isv_packaging_new ();
    s_read_packagings (job, s);
    return 0;
}

static void
s_session_close (s_session_t *s)
{
    for (size_t i = 0; i < s->count; i++)
        free (s->entries[i].name);
    free (s->entries);
    isv_packaging_destroy (&s->packaging);
}

int
isv_extract_preview (const isv_job_t *job, json_t *answer, vd_error_t *err)
{
    s_session_t session;
    if (s_session_open (job, &session, err) < 0)
        return -1;
    json_t *files = json_array ();
    json_object_set_new (answer, "preview", files);
    s_snapshot_t snapshot = {.on = false};
    for (size_t i = 0; i < session.count; i++) {
        const s_entry_t *e = &session.entries[i];
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", job->export_path, e->name);
        json_t *entry = json_pack ("{s:s, s:s}", "file", e->name, "table",
                                   vd_schema_table (e->table->table)->name);
        s_file_t f;
        s_file_init (&f, job, &session, &snapshot);
        f.file = e->name;
        f.table = e->table;
        f.preview = entry;
        vd_error_t ferr;
        vd_error_clear (&ferr);
        int rc = s_extract_file (&f, path, &ferr);
        json_object_set_new (entry, "status",
                             json_string (rc == 0   ? "read"
                                          : rc == 1 ? "empty"
                                                    : "failed"));
        if (rc < 0)
            json_object_set_new (entry, "error", json_string (ferr.msg[0] ? ferr.msg : "failed"));
        json_array_append_new (files, entry);
        s_file_free (&f);
    }
    s_session_close (&session);
    return 0;
}

/*  The file's layout in the run: the accepted one kept, the first one seen
    accepted, a changed one reported (entry, error) and left pending. */
static void
s_run_layout (const isv_job_t *job, const s_entry_t *e, const s_file_t *f, int rc, s_run_t *r,
              json_t *entry)
{
    json_t *accepted = json_object_get (job->cursor_layouts, e->name);
    if (json_is_array (accepted))
        json_object_set (r->layouts, e->name, accepted);
    else if (f->layout && rc >= 0)
        json_object_set (r->layouts, e->name, f->layout);
    if (rc != 2)
        return;
    json_object_set_new (entry, "columns_added", f->added ? json_incref (f->added) : json_array ());
    json_object_set_new (entry, "columns_missing",
                         f->missing ? json_incref (f->missing) : json_array ());
    json_object_set_new (r->pending, e->name,
                         json_pack ("{s:O, s:O*, s:O*}", "columns", f->layout, "added", f->added,
                                    "missing", f->missing));
    char changes[600];
    isv_layout_describe (f->added, f->missing, changes, sizeof changes);
    vd_error_t err;
    vd_error_clear (&err);
    vd_error_set (&err, VD_ERR_PERMANENT, "columns changed, file not loaded: %s", changes);
    vd_error_at (&err, e->name, 0);
    snprintf (err.hint, sizeof err.hint,
              "check the export, then accept its columns: vendange connector accept-layout %s %s",
              job->connector, e->name);
    json_object_set_new (entry, "error", json_string (err.msg));
    json_array_append_new (json_object_get (r->report, "errors"),
                           json_pack ("{s:s, s:I, s:s, s:s}", "file", e->name, "line",
                                      (json_int_t)0, "reason", err.msg, "hint", err.hint));
    vd_log_error (VD_LOG_WARN, &err);
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
    s_layout_reset (f);
    f->snapshot->files[e->table->table]++;
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
        if (f->snapshot->on && rc == 0 && s_send_present (f) < 0)
            rc = -2;
        else if (f->snapshot->on) {
            f->snapshot->nids = 0;
            vd_buf_reset (&f->snapshot->ids);
        }
        if (rc == 0)
            f->snapshot->whole[e->table->table]++;
        json_object_set_new (entry, "status",
                             json_string (rc == 0   ? "loaded"
                                          : rc == 1 ? "empty"
                                          : rc == 2 ? "layout_changed"
                                                    : "failed"));
        json_object_set_new (entry, "rows", json_integer (*f->records - before));
        if (f->skipped)
            json_object_set_new (entry, "unchanged_lines", json_integer (f->skipped));
        s_report_derived (f, entry);
    }
    if (fd >= 0)
        close (fd);
    s_run_layout (job, e, f, rc, r, entry);
    if (rc >= 0 && rc != 2)
        json_object_set_new (r->cursor, e->name, json_string (hash));
    else if (known) /* a failed file keeps its old hash: it is read again */
        json_object_set_new (r->cursor, e->name, json_string (known));
    if (rc >= 0 && rc != 2 && read) { /* its lines' hashes, kept by the loader as of this run */
        json_object_set_new (r->hashed, e->name, json_integer (isv_lines_hashed (f->lines)));
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
    s_session_t session;
    if (s_session_open (job, &session, err) < 0)
        return -1;
    if (session.count == 0) { /* most likely the wrong folder: said, not a run of nothing */
        vd_error_set (err, VD_ERR_PERMANENT, "no export file in \"%s\"", job->export_path);
        size_t at = (size_t)snprintf (err->hint, sizeof err->hint,
                                      "check export_path; file names the mapping takes:");
        for (size_t t = 0; isv_mapping_at (job->mapping, t); t++)
            for (size_t i = 0; i < isv_mapping_at (job->mapping, t)->npatterns; i++)
                if (at < sizeof err->hint)
                    at += (size_t)snprintf (err->hint + at, sizeof err->hint - at, " %s",
                                            isv_mapping_at (job->mapping, t)->patterns[i]);
        s_session_close (&session);
        return -1;
    }
    s_run_t r = {.report = report,
                 .cursor = json_object (),
                 .lines = json_object (),
                 .extracted = json_object (),
                 .skipped = json_object (),
                 .hashed = json_object (),
                 .layouts = json_object (),
                 .pending = json_object ()};
    json_object_set_new (report, "files", json_array ());
    json_object_set_new (report, "errors", json_array ());
    s_snapshot_t snapshot = {.on = job->full_snapshot};
    vd_buf_init (&snapshot.ids, (size_t)PRESENT_IDS * 1024);
    s_file_t f;
    s_file_init (&f, job, &session, &snapshot);
    int rc = 0;
    for (size_t i = 0; i < session.count && rc == 0; i++)
        rc = s_run_file (job, &session.entries[i], &f, &r);
    vd_msg_end_t end = {.extracted = r.extracted,
                        .records = session.records,
                        .skipped = r.skipped,
                        .hashes = session.hash_msgs,
                        .hashed = r.hashed};
    if (rc == 0 && s_send_end (job, &end, ++session.seq, &snapshot) < 0)
        rc = -1;
    if (rc < 0)
        vd_error_set (err, VD_ERR_PERMANENT, "extraction stopped before the end");
    json_t *cursor_doc = json_pack ("{s:O, s:O, s:O, s:O}", "files", r.cursor, "lines", r.lines,
                                    "layouts", r.layouts, "pending_layouts", r.pending);
    char *cursor_text = json_dumps (cursor_doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (cursor_doc);
    json_object_set_new (report, "cursor_after", json_string (cursor_text ? cursor_text : "{}"));
    json_object_set_new (report, "records", json_integer (session.records));
    free (cursor_text);
    json_decref (r.cursor);
    json_decref (r.lines);
    json_decref (r.extracted);
    json_decref (r.skipped);
    json_decref (r.hashed);
    json_decref (r.layouts);
    json_decref (r.pending);
    s_file_free (&f);
    s_session_close (&session);
    vd_buf_free (&snapshot.ids);
    return rc;
}
