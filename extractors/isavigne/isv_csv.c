/*  isv_csv - streaming CSV records for isv_reader (see isv_csv.h).

    At open, a sample of the file decides whether it is text, its encoding
    and its separator; then the file is read again from the start. The
    state machine reads the file's bytes: separators, quotes and line
    ends are ASCII in every encoding we accept, so a record is split first
    and converted to UTF-8 afterwards. Runs of ordinary bytes are copied
    in one go; the record's raw text is copied from the input buffer when
    the record ends or the buffer runs out.
*/
#include "vendange.h"
#include "isv_csv.h"
#include "vd_utf8.h"
#include "isv_fields.h"

#define ISV_CSV_CHUNK (64 * 1024)     /* bytes read at a time         */
#define ISV_BINARY_WINDOW (64 * 1024) /* sample for the binary check  */
#define ISV_SEPARATOR_LINES 20        /* lines for the separator      */
//  UTF-8 text converted from a single-byte encoding: 3 bytes per byte at
//  most, plus the NUL of each field
#define ISV_CSV_MAX_UTF8 (3 * ISV_MAX_LINE + 4 * ISV_MAX_FIELDS)

typedef enum {
    S_FIELD_START, /* nothing read yet in this field                 */
    S_UNQUOTED,
    S_QUOTED,
    S_QUOTE_SEEN /* a '"' inside quotes: closing or doubled        */
} s_state_t;

struct isv_csv {
    FILE *file;
    const char *encoding; /* canonical name, static storage           */
    bool utf8;
    char separator;
    char *in; /* ISV_CSV_CHUNK bytes                      */
    size_t in_len, in_pos;
    bool eof;
    long line;              /* physical line at the read position       */
    bool pending_lf;        /* an LF after a record-ending CR is its own */
    bool quoted_cr;         /* the last byte was a CR inside quotes     */
    bool plain[256];        /* bytes copied as they are, outside quotes */
    bool quoted_plain[256]; /* and inside quotes                        */
    char long_error[64];    /* "line longer than N bytes"               */
    char fields_error[64];  /* "more than N fields in line"             */
    //  The record being read
    s_state_t state;
    long rec_line;
    size_t rec_end; /* input index of the record's line end      */
    bool started;   /* a byte of the record was read            */
    bool skipping;  /* past ISV_MAX_LINE: discarding to line end */
    bool drop;      /* fields are no longer stored (error)       */
    const char *error;
    isv_fields_t parse;       /* the record in the file's bytes           */
    isv_fields_t out;         /* converted to UTF-8                       */
    bool lazy;                /* records handed out unconverted           */
    const char *raw_encoding; /* a lazy record's raw text is converted
                                 from it when asked (NULL: it is)       */
};

static isv_csv_t *
s_new (void)
{
    isv_csv_t *self = calloc (1, sizeof *self);
    char *in = malloc (ISV_CSV_CHUNK);
    if (!self || !in) {
        free (self);
        free (in);
        return NULL;
    }
    self->in = in;
    self->line = 1;
    snprintf (self->long_error, sizeof self->long_error, "line longer than %d bytes", ISV_MAX_LINE);
    snprintf (self->fields_error, sizeof self->fields_error, "more than %d fields in line",
              ISV_MAX_FIELDS);
    //  The record's raw bytes are what ISV_MAX_LINE limits; its fields
    //  take one NUL more each
    isv_fields_init (&self->parse, ISV_MAX_LINE + ISV_MAX_FIELDS);
    vd_buf_init (&self->parse.raw, ISV_MAX_LINE);
    isv_fields_init (&self->out, ISV_CSV_MAX_UTF8);
    return self;
}

//  More than 1% NUL or control bytes (other than tab, CR, LF) in the
//  first ISV_BINARY_WINDOW bytes
static bool
s_is_binary (const unsigned char *s, size_t len)
{
    if (len > ISV_BINARY_WINDOW)
        len = ISV_BINARY_WINDOW;
    size_t control = 0;
    for (size_t i = 0; i < len; i++)
        if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') || s[i] == 0x7F)
            control++;
    return control * 100 > len;
}

//  The sample's length without a UTF-8 sequence cut by the sample's end
static size_t
s_whole_utf8 (const unsigned char *s, size_t len)
{
    for (size_t back = 1; back <= 4 && back <= len; back++) {
        unsigned char c = s[len - back];
        if ((c & 0xC0) == 0x80)
            continue; //  continuation byte: look further back
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

//  Counts ';' ',' and tab outside quotes on the first lines of the sample;
//  returns the number of lines counted. A quote opens a quoted field only
//  at the start of a field (for any of the candidate separators).
static size_t
s_count_separators (const char *s, size_t len, bool complete, size_t counts[ISV_SEPARATOR_LINES][3])
{
    static const char candidates[] = ";,\t";
    size_t nlines = 0, line[3] = {0, 0, 0};
    bool quoted = false, field_start = true;
    for (size_t i = 0; i < len && nlines < ISV_SEPARATOR_LINES; i++) {
        char c = s[i];
        if (quoted) {
            if (c == '"' && i + 1 < len && s[i + 1] == '"')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"' && field_start)
            quoted = true;
        else if (c == '\r' || c == '\n') {
            memcpy (counts[nlines++], line, sizeof line);
            memset (line, 0, sizeof line);
            if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
                i++;
            field_start = true;
            continue;
        }
        const char *hit = c ? strchr (candidates, c) : NULL;
        field_start = !quoted && hit != NULL;
        if (field_start)
            line[hit - candidates]++;
    }
    //  The last line counts only when the sample holds all of it
    if (complete && nlines < ISV_SEPARATOR_LINES && (line[0] || line[1] || line[2]))
        memcpy (counts[nlines++], line, sizeof line);
    return nlines;
}

//  The separator with the highest score, the lines that agree on one
//  non-zero count times the fields that count makes: lines agreeing on a
//  separator win, and tabs splitting lines into 12 fields beat the commas
//  of three French decimals found on a line or two more; ';' when none is
//  seen or on a tie
/*  True when the sample is UTF-8, possibly with a few lines saved in
    another encoding (an export edited by hand): it holds valid multi-byte
    sequences and at least as many of them as invalid bytes. Windows-1252
    text almost never forms valid multi-byte sequences. Records that are
    not valid UTF-8 are then converted from windows-1252 one by one. */
static bool
s_looks_utf8 (const unsigned char *s, size_t len)
{
    size_t valid = 0, invalid = 0, i = 0;
    while (i < len) {
        i += vd_utf8_ascii_run (s + i, len - i);
        if (i == len)
            break;
        uint32_t cp;
        size_t n = vd_utf8_decode (s + i, len - i, &cp);
        if (cp == VD_UTF8_INVALID)
            invalid++;
        else
            valid++;
        i += n;
    }
    return invalid == 0 || (valid > 0 && valid >= invalid);
}

static char
s_detect_separator (const char *s, size_t len, bool complete)
{
    static const char candidates[] = ";,\t";
    size_t counts[ISV_SEPARATOR_LINES][3];
    size_t nlines = s_count_separators (s, len, complete, counts);
    size_t best_score = 0;
    char best = ';';
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < nlines; i++) {
            size_t count = counts[i][k], same = 0;
            if (count == 0)
                continue;
            for (size_t j = 0; j < nlines; j++)
                same += counts[j][k] == count;
            if (same * (count + 1) > best_score) {
                best_score = same * (count + 1);
                best = candidates[k];
            }
        }
    return best;
}

//  Decides encoding and separator from the sample; *skip is the BOM length
static int
s_sniff (isv_csv_t *self, const unsigned char *sample, size_t len, bool complete,
         const char *wanted, size_t *skip, vd_error_t *err)
{
    *skip = 0;
    if (len >= 3 && memcmp (sample, "\xEF\xBB\xBF", 3) == 0)
        *skip = 3;
    else if (len >= 2 &&
             (memcmp (sample, "\xFF\xFE", 2) == 0 || memcmp (sample, "\xFE\xFF", 2) == 0)) {
        vd_error_set (err, VD_ERR_PERMANENT, "utf-16 files are not supported");
        snprintf (err->hint, sizeof err->hint, "export the file as CSV in UTF-8 or Windows-1252");
        return -1;
    }
    sample += *skip;
    len -= *skip;
    if (s_is_binary (sample, len)) {
        vd_error_set (err, VD_ERR_PERMANENT, "not a text file");
        return vd_error_detail (err,
                                "more than 1%% NUL or control bytes in the "
                                "first %d KiB",
                                ISV_BINARY_WINDOW / 1024);
    }
    //  A UTF-8 BOM wins over the encoding asked for: it cannot be anything else
    size_t whole = complete ? len : s_whole_utf8 (sample, len);
    if (*skip == 3)
        self->encoding = "utf-8";
    else if (wanted)
        self->encoding = wanted;
    else
        self->encoding = s_looks_utf8 (sample, whole) ? "utf-8" : "windows-1252";
    self->separator = s_detect_separator ((const char *)sample, len, complete);
    return 0;
}

static int
s_read_failed (vd_error_t *err)
{
    vd_error_set (err, VD_ERR_PERMANENT, "could not read file");
    return vd_error_detail (err, "%s", strerror (errno));
}

//  Opens the file, sniffs a sample and goes back to the start of the text
static int
s_open_file (isv_csv_t *self, const char *path, const char *wanted, vd_error_t *err)
{
    self->file = fopen (path, "rb");
    if (!self->file) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not open file");
        return vd_error_detail (err, "%s", strerror (errno));
    }
    unsigned char *sample = malloc (ISV_SNIFF_BYTES);
    if (!sample)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    int rc = -1;
    size_t len = fread (sample, 1, ISV_SNIFF_BYTES, self->file), skip;
    if (ferror (self->file))
        s_read_failed (err);
    else if (s_sniff (self, sample, len, len < ISV_SNIFF_BYTES, wanted, &skip, err) == 0) {
        if (fseek (self->file, (long)skip, SEEK_SET) < 0)
            s_read_failed (err);
        else
            rc = 0;
    }
    free (sample);
    if (rc < 0)
        return -1;
    self->utf8 = strcmp (self->encoding, "utf-8") == 0;
    for (int c = 0; c < 256; c++) {
        self->plain[c] = c != (unsigned char)self->separator && c != '\r' && c != '\n' && c != 0;
        self->quoted_plain[c] = c != '"' && c != '\r' && c != '\n' && c != 0;
    }
    return 0;
}

isv_csv_t *
isv_csv_open (const char *path, const char *encoding, vd_error_t *err)
{
    const char *wanted = NULL;
    if (encoding && !(wanted = vd_utf8_encoding_name (encoding))) {
        vd_error_set (err, VD_ERR_PERMANENT, "unknown encoding");
        vd_error_detail (err, "\"%s\"", encoding);
        return NULL;
    }
    isv_csv_t *self = s_new ();
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    if (s_open_file (self, path, wanted, err) < 0)
        isv_csv_destroy (&self);
    return self;
}

const char *
isv_csv_encoding (const isv_csv_t *self)
{
    return self->encoding;
}

char
isv_csv_separator (const isv_csv_t *self)
{
    return self->separator;
}

void
isv_csv_destroy (isv_csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    isv_csv_t *self = *self_p;
    if (self->file)
        (void)fclose (self->file); //  read-only: nothing to lose on close
    free (self->in);
    isv_fields_free (&self->parse);
    isv_fields_free (&self->out);
    free (self);
    *self_p = NULL;
}

//  Marks the record unusable: the first error wins, fields are dropped
static void
s_fail (isv_csv_t *self, const char *error)
{
    if (!self->error)
        self->error = error;
    self->drop = true;
}

static void
s_push (isv_csv_t *self)
{
    if (self->drop)
        return;
    if (self->parse.count == ISV_MAX_FIELDS)
        s_fail (self, self->fields_error);
    else if (isv_fields_push (&self->parse) < 0)
        s_fail (self, self->long_error);
}

static void
s_append (isv_csv_t *self, const unsigned char *s, size_t len)
{
    if (!self->drop && isv_fields_append (&self->parse, (const char *)s, len) < 0)
        s_fail (self, self->long_error);
}

static void
s_line_end (isv_csv_t *self, unsigned char c)
{
    self->line++;
    if (c == '\r')
        self->pending_lf = true;
}

//  One step inside quotes; returns the next position
static size_t
s_step_quoted (isv_csv_t *self, const unsigned char *in, size_t pos, size_t end)
{
    unsigned char c = in[pos];
    bool after_cr = self->quoted_cr;
    self->quoted_cr = false;
    if (c == '"')
        self->state = S_QUOTE_SEEN;
    else if (c == '\r' || c == '\n') {
        s_append (self, in + pos, 1);
        if (c == '\r' || !after_cr)
            self->line++;
        self->quoted_cr = c == '\r';
    } else if (c == 0)
        s_fail (self, "NUL byte in line");
    else {
        size_t run = pos + 1;
        while (run < end && self->quoted_plain[in[run]])
            run++;
        s_append (self, in + pos, run - pos);
        return run;
    }
    return pos + 1;
}

//  One step of the state machine at pos; returns the next position and
//  sets *done when pos held the line end of the record
static size_t
s_step (isv_csv_t *self, const unsigned char *in, size_t pos, size_t end, bool *done)
{
    unsigned char c = in[pos];
    self->started = true;
    if (self->state == S_QUOTED)
        return s_step_quoted (self, in, pos, end);
    if (self->state == S_QUOTE_SEEN) {
        if (c == '"') { //  a doubled quote
            s_append (self, in + pos, 1);
            self->state = S_QUOTED;
            return pos + 1;
        }
        self->state = S_UNQUOTED; //  "abc"def reads as abcdef
    }
    if (c == '"' && self->state == S_FIELD_START) {
        self->state = S_QUOTED;
        return pos + 1;
    }
    if (c == (unsigned char)self->separator) {
        s_push (self);
        self->state = S_FIELD_START;
        return pos + 1;
    }
    if (c == '\r' || c == '\n') {
        s_line_end (self, c);
        self->rec_end = pos;
        *done = true;
        return pos + 1;
    }
    self->state = S_UNQUOTED;
    if (c == 0) {
        s_fail (self, "NUL byte in line");
        return pos + 1;
    }
    size_t run = pos + 1;
    while (run < end && self->plain[in[run]])
        run++;
    s_append (self, in + pos, run - pos);
    return run;
}

//  After an over-long record: discards bytes up to the next physical line
//  end (quotes no longer count)
static size_t
s_skip (isv_csv_t *self, const unsigned char *in, size_t pos, size_t end, bool *done)
{
    for (; pos < end; pos++) {
        unsigned char c = in[pos];
        bool after_cr = self->quoted_cr;
        self->quoted_cr = false;
        if (c == '\n' && after_cr)
            continue; //  second half of a quoted CRLF
        if (c == '\r' || c == '\n') {
            s_line_end (self, c);
            *done = true;
            return pos + 1;
        }
    }
    return pos;
}

//  Runs the state machine over the input buffer; returns true when a
//  record ended (the rest of the buffer stays for the next record)
static bool
s_scan (isv_csv_t *self)
{
    const unsigned char *in = (const unsigned char *)self->in;
    size_t pos = self->in_pos, end = self->in_len;
    if (self->pending_lf) {
        self->pending_lf = false;
        if (in[pos] == '\n')
            pos++;
    }
    size_t mark = pos;
    bool done = false;
    bool skipping = self->skipping;
    while (pos < end && !done)
        pos = skipping ? s_skip (self, in, pos, end, &done) : s_step (self, in, pos, end, &done);
    self->in_pos = pos;
    if (skipping)
        return done;
    size_t len = (done ? self->rec_end : end) - mark;
    if (len > 0 && vd_buf_add (&self->parse.raw, in + mark, len) < 0) {
        s_fail (self, self->long_error);
        self->skipping = !done;
    }
    return done;
}

static int
s_fill (isv_csv_t *self, vd_error_t *err)
{
    self->in_pos = 0;
    self->in_len = fread (self->in, 1, ISV_CSV_CHUNK, self->file);
    if (self->in_len < ISV_CSV_CHUNK) {
        if (ferror (self->file)) {
            vd_error_set (err, VD_ERR_PERMANENT, "could not read file");
            vd_error_detail (err, "%s", strerror (errno));
            err->line = self->line;
            return -1;
        }
        self->eof = true;
    }
    return 0;
}

//  Converts the raw text into out, a NUL byte becoming U+FFFD
static int
s_convert_raw (isv_csv_t *self, const char *encoding)
{
    const char *s = vd_buf_str (&self->parse.raw);
    size_t len = self->parse.raw.len;
    while (len > 0) {
        const char *nul = memchr (s, '\0', len);
        size_t n = nul ? (size_t)(nul - s) : len;
        if (vd_utf8_convert (encoding, s, n, &self->out.raw) < 0)
            return -1;
        if (nul && vd_buf_add (&self->out.raw, "\xEF\xBF\xBD", 3) < 0)
            return -1;
        s += nul ? n + 1 : n;
        len -= nul ? n + 1 : n;
    }
    return 0;
}

//  Hands the record out as a row, converted to UTF-8
int
isv_csv_convert (isv_csv_t *self, isv_row_t *row, vd_error_t *err)
{
    isv_fields_t *parse = &self->parse;
    const char *encoding = self->encoding;
    self->raw_encoding = NULL;
    if (self->utf8 && !vd_utf8_valid (vd_buf_str (&parse->raw), parse->raw.len))
        encoding = "windows-1252";
    if (!self->error && encoding == self->encoding && self->utf8) {
        isv_fields_row (parse, self->rec_line, row);
        return 1;
    }
    isv_fields_reset (&self->out);
    /* a lazy record's raw text is converted only when asked (a reject) */
    self->raw_encoding = self->lazy && !self->error ? encoding : NULL;
    if (!self->raw_encoding && s_convert_raw (self, encoding) < 0)
        goto err;
    if (self->error) {
        isv_fields_error_row (&self->out, self->rec_line, self->error, row);
        return 1;
    }
    const char *text = vd_buf_str (&parse->text);
    for (size_t i = 0; i < parse->count; i++)
        if (isv_fields_add_converted (&self->out, encoding, text + parse->starts[i],
                                      parse->lengths[i]) < 0)
            goto err;
    isv_fields_row (&self->out, self->rec_line, row);
    return 1;
err:
    vd_error_set (err, VD_ERR_PERMANENT, "could not convert line to utf-8");
    vd_error_detail (err, "from %s", encoding);
    err->line = self->rec_line;
    return -1;
}

//  Hands the record out: as its bytes (lazy, no error), or converted
static int
s_emit (isv_csv_t *self, isv_row_t *row, vd_error_t *err)
{
    if (!self->lazy || self->error)
        return isv_csv_convert (self, row, err);
    *row = (isv_row_t){.line = self->rec_line,
                       .raw = "",
                       .bytes = self->parse.raw.data ? self->parse.raw.data : "",
                       .nbytes = self->parse.raw.len};
    return 1;
}

const char *
isv_csv_raw (isv_csv_t *self, const isv_row_t *row)
{
    if (self->raw_encoding && row->raw == vd_buf_str (&self->out.raw)) {
        if (s_convert_raw (self, self->raw_encoding) < 0)
            vd_buf_reset (&self->out.raw);
        self->raw_encoding = NULL;
        return vd_buf_str (&self->out.raw); /* (the buffer may have moved) */
    }
    return row->raw;
}

void
isv_csv_set_lazy (isv_csv_t *self, bool lazy)
{
    self->lazy = lazy;
}

static void
s_record_start (isv_csv_t *self)
{
    isv_fields_reset (&self->parse);
    (void)isv_fields_push (&self->parse); //  the first field: cannot fail
    self->state = S_FIELD_START;
    self->rec_line = self->line;
    self->started = false;
    self->skipping = false;
    self->drop = false;
    self->error = NULL;
    self->quoted_cr = false;
}

//  Drops the line end a record left open at the end of the file ends with
static void
s_strip_line_end (vd_buf_t *raw)
{
    if (raw->len > 0 && raw->data[raw->len - 1] == '\n')
        raw->len--;
    if (raw->len > 0 && raw->data[raw->len - 1] == '\r')
        raw->len--;
    if (raw->data)
        raw->data[raw->len] = '\0';
}

int
isv_csv_next (isv_csv_t *self, isv_row_t *row, vd_error_t *err)
{
    assert (self);
    s_record_start (self);
    while (true) {
        if (self->in_pos == self->in_len) {
            if (self->eof)
                break;
            if (s_fill (self, err) < 0)
                return -1;
            continue;
        }
        if (s_scan (self))
            return s_emit (self, row, err);
    }
    if (!self->started)
        return 0; //  nothing after the last line end
    if (self->state == S_QUOTED && !self->skipping) {
        s_fail (self, "unterminated quoted field");
        s_strip_line_end (&self->parse.raw);
    }
    return s_emit (self, row, err);
}
