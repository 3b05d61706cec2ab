/*  isv_reader - rows out of one iSaVigne export file (see isv_reader.h).

    Picks the format from the extension and hands the work to isv_csv
    (which sniffs encoding and separator), isv_xlsx or isv_xls.
*/
#include "vendange.h"
#include "isv_reader.h"
#include "isv_csv.h"
#include "isv_xls.h"
#include "isv_xlsx.h"

typedef enum { ISV_CSV, ISV_XLSX, ISV_XLS } isv_format_t;

struct isv_reader {
    isv_format_t format;
    char *path;
    const char *encoding; /* canonical name, static storage        */
    char separator;
    isv_csv_t *csv;
    isv_xlsx_t *xlsx;
    isv_xls_t *xls;
};

static int
s_format_of (const char *path, isv_format_t *format, vd_error_t *err)
{
    const char *slash = strrchr (path, '/');
    const char *dot = strrchr (slash ? slash : path, '.');
    const char *ext = dot ? dot + 1 : "";
    if (strcasecmp (ext, "csv") == 0 || strcasecmp (ext, "txt") == 0)
        *format = ISV_CSV;
    else if (strcasecmp (ext, "xlsx") == 0)
        *format = ISV_XLSX;
    else if (strcasecmp (ext, "xls") == 0)
        *format = ISV_XLS;
    else {
        vd_error_set (err, VD_ERR_PERMANENT, "unsupported file type");
        vd_error_detail (err, "extension \"%s\"", ext);
        snprintf (err->hint, sizeof err->hint, "expected .csv, .txt, .xlsx or .xls");
        return -1;
    }
    return 0;
}

isv_reader_t *
isv_reader_open (const char *path, const char *encoding, vd_error_t *err)
{
    return isv_reader_open_named (path, path, encoding, err);
}

isv_reader_t *
isv_reader_open_named (const char *path, const char *name, const char *encoding, vd_error_t *err)
{
    assert (path && name);
    vd_error_t local;
    if (!err) {
        vd_error_clear (&local);
        err = &local;
    }
    isv_reader_t *self = calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (name))) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        goto err;
    }
    self->encoding = "utf-8";
    if (s_format_of (name, &self->format, err) < 0)
        goto err;
    if (self->format == ISV_CSV) {
        if (!(self->csv = isv_csv_open (path, encoding, err)))
            goto err;
        self->encoding = isv_csv_encoding (self->csv);
        self->separator = isv_csv_separator (self->csv);
    } else if (self->format == ISV_XLSX) {
        if (!(self->xlsx = isv_xlsx_open (path, err)))
            goto err;
    } else if (!(self->xls = isv_xls_open (path, err)))
        goto err;
    return self;
err:
    vd_error_at (err, name, 0);
    isv_reader_destroy (&self);
    return NULL;
}

int
isv_reader_next (isv_reader_t *self, isv_row_t *row, vd_error_t *err)
{
    assert (self);
    assert (row);
    vd_error_t local;
    if (!err) {
        vd_error_clear (&local);
        err = &local;
    }
    int rc = self->csv    ? isv_csv_next (self->csv, row, err)
             : self->xlsx ? isv_xlsx_next (self->xlsx, row, err)
                          : isv_xls_next (self->xls, row, err);
    if (rc < 0)
        vd_error_at (err, self->path, err->line);
    return rc;
}

void
isv_reader_set_lazy (isv_reader_t *self, bool lazy)
{
    assert (self);
    if (self->csv)
        isv_csv_set_lazy (self->csv, lazy);
}

int
isv_reader_convert (isv_reader_t *self, isv_row_t *row, vd_error_t *err)
{
    assert (self);
    if (!row->bytes)
        return 0;
    if (isv_csv_convert (self->csv, row, err) < 0) {
        vd_error_at (err, self->path, err->line);
        return -1;
    }
    return 0;
}

const char *
isv_reader_raw (isv_reader_t *self, const isv_row_t *row)
{
    assert (self);
    return self->csv ? isv_csv_raw (self->csv, row) : row->raw;
}

const char *
isv_reader_format (const isv_reader_t *self)
{
    assert (self);
    return self->format == ISV_CSV ? "csv" : self->format == ISV_XLSX ? "xlsx" : "xls";
}

const char *
isv_reader_encoding (const isv_reader_t *self)
{
    assert (self);
    return self->encoding;
}

char
isv_reader_separator (const isv_reader_t *self)
{
    assert (self);
    return self->format == ISV_CSV ? self->separator : 0;
}

void
isv_reader_destroy (isv_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    isv_reader_t *self = *self_p;
    isv_csv_destroy (&self->csv);
    isv_xlsx_destroy (&self->xlsx);
    isv_xls_destroy (&self->xls);
    free (self->path);
    free (self);
    *self_p = NULL;
}

// --------------------------------------------------------------------------
//  Self test

#include <zip.h>

typedef struct {
    bool verbose;
    char dir[64];
    int failures;
} s_test_t;

static void
s_fail (s_test_t *t, const char *name, const char *want, const char *got)
{
    t->failures++;
    if (t->verbose)
        printf ("isv_reader: FAIL %s\n  want: %s\n  got:  %s\n", name, want, got);
}

static void
s_check (s_test_t *t, const char *name, bool ok)
{
    if (!ok)
        s_fail (t, name, "true", "false");
    else if (t->verbose)
        printf ("isv_reader: ok %s\n", name);
}

static void
s_path (s_test_t *t, const char *name, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", t->dir, name);
}

static void
s_write (s_test_t *t, const char *name, const void *data, size_t len)
{
    char path[128];
    s_path (t, name, path, sizeof path);
    FILE *file = fopen (path, "wb");
    bool ok = file && fwrite (data, 1, len, file) == len;
    if (file && fclose (file) != 0)
        ok = false;
    if (!ok)
        s_fail (t, name, "fixture written", strerror (errno));
}

//  Appends s with CR, LF and NUL made visible
static void
s_dump_text (vd_buf_t *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            vd_buf_addstr (out, s[i] == '\r' ? "\\r" : s[i] == '\n' ? "\\n" : "\\0");
        else
            vd_buf_addc (out, s[i]);
}

//  Reads every row into out: "line:f1|f2\n", "line!error:raw\n" for an
//  error row; brief: "line:nfields\n". Also checks the row invariants.
static int
s_dump (isv_reader_t *reader, bool brief, vd_buf_t *out)
{
    isv_row_t row;
    vd_error_t err;
    vd_error_clear (&err);
    int rc;
    while ((rc = isv_reader_next (reader, &row, &err)) == 1) {
        if (!row.raw || (row.error && row.nfields != 0))
            return -1;
        vd_buf_printf (out, "%ld%c", row.line, row.error ? '!' : ':');
        if (row.error)
            vd_buf_printf (out, "%s:", row.error);
        if (row.error && !brief)
            s_dump_text (out, row.raw, strlen (row.raw));
        if (!row.error && brief)
            vd_buf_printf (out, "%zu", row.nfields);
        for (size_t i = 0; !row.error && !brief && i < row.nfields; i++) {
            if (row.fields[i][row.lengths[i]] != '\0')
                return -1;
            if (i > 0)
                vd_buf_addc (out, '|');
            s_dump_text (out, row.fields[i], row.lengths[i]);
        }
        vd_buf_addc (out, '\n');
    }
    if (rc < 0)
        vd_buf_printf (out, "fatal: %s (%s)\n", err.msg, err.detail);
    return 0;
}

//  Opens a fixture (written first when data is not NULL) and compares its
//  rows, encoding and separator with what is expected
static void
s_expect (s_test_t *t, const char *name, const char *data, size_t len, const char *encoding,
          const char *want_encoding, char want_separator, bool brief, const char *want)
{
    char path[128];
    if (data)
        s_write (t, name, data, len);
    s_path (t, name, path, sizeof path);
    vd_error_t err;
    vd_error_clear (&err);
    isv_reader_t *reader = isv_reader_open (path, encoding, &err);
    if (!reader) {
        s_fail (t, name, "open", err.msg);
        return;
    }
    vd_buf_t got;
    vd_buf_init (&got, 16 * 1024 * 1024);
    if (s_dump (reader, brief, &got) < 0)
        s_fail (t, name, "valid rows", "bad row invariants");
    else if (strcmp (vd_buf_str (&got), want) != 0)
        s_fail (t, name, want, vd_buf_str (&got));
    else if (want_encoding && strcmp (isv_reader_encoding (reader), want_encoding) != 0)
        s_fail (t, name, want_encoding, isv_reader_encoding (reader));
    else if (isv_reader_separator (reader) != want_separator)
        s_fail (t, name, "another separator", "detected separator");
    else
        s_check (t, name, true);
    vd_buf_free (&got);
    isv_reader_destroy (&reader);
}

//  The file must be refused at open with an error naming it
static void
s_refused (s_test_t *t, const char *name, const void *data, size_t len, const char *encoding,
           const char *want_msg)
{
    char path[128];
    if (data)
        s_write (t, name, data, len);
    s_path (t, name, path, sizeof path);
    vd_error_t err;
    vd_error_clear (&err);
    isv_reader_t *reader = isv_reader_open (path, encoding, &err);
    if (reader)
        s_fail (t, name, want_msg, "opened");
    else if (strcmp (err.msg, want_msg) != 0 || strcmp (err.file, path) != 0)
        s_fail (t, name, want_msg, err.msg);
    else
        s_check (t, name, true);
    isv_reader_destroy (&reader);
}

//  A string literal and its length (NUL bytes included). Octal escapes
//  end a byte that a hex digit follows: "Cuv\351e" is "Cuv\xE9" + "e".
#define S_DATA(s) s, sizeof (s) - 1

static void
s_test_separators_and_encodings (s_test_t *t)
{
    s_expect (t, "semicolon.csv", S_DATA ("Code;D\xC3\xA9signation;Prix\nRIES-22;Riesling;12,50\n"),
              NULL, "utf-8", ';', false,
              "1:Code|D\xC3\xA9signation|Prix\n2:RIES-22|Riesling|12,50\n");
    s_expect (t, "comma.csv", S_DATA ("code,name,price\nA1,\"Pinot, gris\",9.5\n"), NULL, "utf-8",
              ',', false, "1:code|name|price\n2:A1|Pinot, gris|9.5\n");
    s_expect (t, "tab.txt", S_DATA ("a\tb\tc\n1\t2,5\t3;4\n"), NULL, "utf-8", '\t', false,
              "1:a|b|c\n2:1|2,5|3;4\n");
    //  Same count on every line beats a higher total
    s_expect (t, "consistent.csv", S_DATA ("a;b,c,d\ne;f\ng;h,i,j,k,l\n"), NULL, "utf-8", ';',
              false, "1:a|b,c,d\n2:e|f\n3:g|h,i,j,k,l\n");
    s_expect (t, "bom-crlf.CSV", S_DATA ("\xEF\xBB\277Code;Nom\r\n1;\xC3\xA9t\xC3\xA9\r\n\r\n3;x"),
              NULL, "utf-8", ';', false, "1:Code|Nom\n2:1|\xC3\xA9t\xC3\xA9\n3:\n4:3|x\n");
    s_expect (t, "windows-1252.csv", S_DATA ("Nom;Prix;Devise\r\nCuv\351e;1\240234,50;\x80\r\n"),
              NULL, "windows-1252", ';', false,
              "1:Nom|Prix|Devise\n2:Cuv\xC3\251e|1\xC2\240234,50|\xE2\x82\xAC\n");
    s_expect (t, "latin9.csv", S_DATA ("Prix;Devise\n12;\xA4\n"), "Latin9", "iso-8859-15", ';',
              false, "1:Prix|Devise\n2:12|\xE2\x82\xAC\n");
    s_expect (t, "latin9.csv", NULL, 0, NULL, "windows-1252", ';', false,
              "1:Prix|Devise\n2:12|\xC2\xA4\n");
    s_expect (t, "empty.csv", "", 0, NULL, "utf-8", ';', false, "");
    s_expect (t, "bom-only.csv", S_DATA ("\xEF\xBB\xBF"), NULL, "utf-8", ';', false, "");
    s_refused (t, "unknown-encoding.csv", S_DATA ("a;b\n"), "ebcdic", "unknown encoding");
    s_refused (t, "utf-16.csv", S_DATA ("\xFF\376a\0;\0b\0"), NULL,
               "utf-16 files are not supported");
}

static void
s_test_structure (s_test_t *t)
{
    s_expect (t, "quoted.csv",
              S_DATA ("a;\"b;c\";\"say \"\"hi\"\"\";\"multi\nline\"\nnext;row\n"
                      "\"x\r\ny\";z\r\n\"\"\"\";\"q\"tail\nlast;1"),
              NULL, "utf-8", ';', false,
              "1:a|b;c|say \"hi\"|multi\\nline\n3:next|row\n4:x\\r\\ny|z\n"
              "6:\"|qtail\n7:last|1\n");
    s_expect (t, "lone-cr.csv", S_DATA ("a;b\rc;d\r"), NULL, "utf-8", ';', false, "1:a|b\n2:c|d\n");
    s_expect (t, "empty-line.csv", S_DATA ("a\n\nb\n"), NULL, "utf-8", ';', false,
              "1:a\n2:\n3:b\n");
    s_expect (t, "unterminated.csv", S_DATA ("h1;h2\nok;1\nbad;\"open\nstill open\n"), NULL,
              "utf-8", ';', false,
              "1:h1|h2\n2:ok|1\n3!unterminated quoted field:bad;\"open\\nstill open\n");
    //  One NUL among more than 100 bytes: a bad line, not a binary file
    char nul[256], want[512];
    memset (nul, 'x', sizeof nul);
    memcpy (nul, "h1;h2\nc\0d;e\nok;", 15);
    nul[sizeof nul - 1] = '\n';
    snprintf (want, sizeof want, "1:h1|h2\n2!NUL byte in line:c\xEF\xBF\275d;e\n3:ok|%.*s\n",
              (int)sizeof nul - 16, nul + 15);
    s_expect (t, "nul.csv", nul, sizeof nul, NULL, "utf-8", ';', false, want);
    unsigned char garbage[300];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (unsigned char)(i * 7 % 40);
    s_refused (t, "garbage.csv", garbage, sizeof garbage, NULL, "not a text file");
}

static void
s_test_limits (s_test_t *t)
{
    //  Too many fields: the line is refused, the next one is read
    vd_buf_t data, want;
    vd_buf_init (&data, 8 * ISV_MAX_LINE);
    vd_buf_init (&want, 8 * ISV_MAX_LINE);
    vd_buf_addstr (&data, "a;b\n");
    for (int i = 0; i < ISV_MAX_FIELDS + 10; i++)
        vd_buf_addc (&data, ';');
    vd_buf_addstr (&data, "\nc;d\n");
    vd_buf_printf (&want, "1:a|b\n2!more than %d fields in line:%.*s\n3:c|d\n", ISV_MAX_FIELDS,
                   ISV_MAX_FIELDS + 10, data.data + 4);
    s_expect (t, "fields.csv", data.data, data.len, NULL, "utf-8", ';', false, want.data);
    //  Over-long lines, plain and inside quotes (the reader goes on at
    //  the next line end)
    vd_buf_reset (&data);
    vd_buf_addstr (&data, "h;1\n");
    for (int i = 0; i < ISV_MAX_LINE + 10; i++)
        vd_buf_addc (&data, 'a');
    vd_buf_addstr (&data, "\nok;2\n\"");
    for (int i = 0; i < ISV_MAX_LINE + 100000; i++)
        vd_buf_addc (&data, 'q');
    vd_buf_addstr (&data, "\nafter;3\n");
    vd_buf_reset (&want);
    vd_buf_printf (&want,
                   "1:2\n2!line longer than %d bytes:\n3:2\n"
                   "4!line longer than %d bytes:\n5:2\n",
                   ISV_MAX_LINE, ISV_MAX_LINE);
    s_expect (t, "long.csv", data.data, data.len, NULL, "utf-8", ';', true, want.data);
    vd_buf_free (&data);
    vd_buf_free (&want);
}

//  Line ends split across two 64 KiB reads, and a UTF-8 file whose bad
//  line comes after the first MiB (read as Windows-1252)
static void
s_test_streaming (s_test_t *t)
{
    vd_buf_t data;
    vd_buf_init (&data, 4 * ISV_MAX_LINE);
    vd_buf_addstr (&data, "k;");
    while (data.len < 64 * 1024 - 1)
        vd_buf_addc (&data, 'p');
    vd_buf_addstr (&data, "\r\nn;2\r\n\"");
    while (data.len < 2 * 64 * 1024 - 1)
        vd_buf_addc (&data, 'q');
    vd_buf_addstr (&data, "\r\nz\";1\r\nn;4\r\n");
    s_expect (t, "split-crlf.csv", data.data, data.len, NULL, "utf-8", ';', true,
              "1:2\n2:2\n3:2\n5:2\n");
    vd_buf_reset (&data);
    long lines = 0;
    while (data.len <= ISV_SNIFF_BYTES) {
        vd_buf_addstr (&data, "n;abcdefghij\n");
        lines++;
    }
    vd_buf_addstr (&data, "x;Cuv\351e\n");
    char path[128];
    s_write (t, "late-1252.csv", data.data, data.len);
    s_path (t, "late-1252.csv", path, sizeof path);
    isv_reader_t *reader = isv_reader_open (path, NULL, NULL);
    isv_row_t row = {0};
    long count = 0;
    while (reader && isv_reader_next (reader, &row, NULL) == 1)
        count++;
    s_check (t, "late-1252.csv",
             reader && count == lines + 1 && row.nfields == 2 &&
                 strcmp (row.fields[1], "Cuv\xC3\251e") == 0 &&
                 strcmp (row.raw, "x;Cuv\xC3\251e") == 0 &&
                 strcmp (isv_reader_encoding (reader), "utf-8") == 0);
    isv_reader_destroy (&reader);
    vd_buf_free (&data);
}

//  Lazy records: their bytes as read (no line end, nothing converted),
//  the same fields as an eager read once converted; a record with an
//  error comes converted, with its error
static void
s_test_lazy (s_test_t *t)
{
    static const char text[] = "code;nom\r\n"
                               "A1;Cuv\351e\r\n"
                               "B2;\"deux\r\nlignes\"\r\n"
                               "C3;x\0y\r\n"
                               "D4;fin\r\n";
    static const char *const bytes[] = {"A1;Cuv\351e", "B2;\"deux\r\nlignes\"", NULL, "D4;fin"};
    vd_buf_t data; /* lines enough for one NUL byte not to make it binary */
    vd_buf_init (&data, 1024 * 1024);
    vd_buf_add (&data, text, sizeof text - 1);
    for (int i = 0; i < 200; i++)
        vd_buf_addstr (&data, "Z9;rest of the file\r\n");
    s_write (t, "lazy.csv", data.data, data.len);
    vd_buf_free (&data);
    char path[128];
    s_path (t, "lazy.csv", path, sizeof path);
    isv_reader_t *eager = isv_reader_open (path, NULL, NULL);
    isv_reader_t *lazy = isv_reader_open (path, NULL, NULL);
    isv_row_t e, l;
    bool ok = eager && lazy && isv_reader_next (eager, &e, NULL) == 1 &&
              isv_reader_next (lazy, &l, NULL) == 1 && !l.bytes; /* the header: eager */
    if (ok)
        isv_reader_set_lazy (lazy, true);
    for (int i = 0; ok && i < 4; i++) {
        ok = isv_reader_next (eager, &e, NULL) == 1 && isv_reader_next (lazy, &l, NULL) == 1 &&
             l.line == e.line;
        if (ok && bytes[i])
            ok = l.bytes && l.nbytes == strlen (bytes[i]) &&
                 memcmp (l.bytes, bytes[i], l.nbytes) == 0;
        else if (ok)
            ok = !l.bytes && l.error && e.error && strcmp (l.error, e.error) == 0;
        if (ok && i != 3) /* the last one is left unconverted */
            ok = isv_reader_convert (lazy, &l, NULL) == 0 && !l.bytes && l.nfields == e.nfields &&
                 strcmp (isv_reader_raw (lazy, &l), e.raw) == 0 &&
                 (l.nfields < 2 || strcmp (l.fields[1], e.fields[1]) == 0);
    }
    int rest = 0;
    while (ok && isv_reader_next (lazy, &l, NULL) == 1)
        rest += l.bytes && l.nbytes == 19;
    s_check (t, "lazy.csv", ok && rest == 200);
    isv_reader_destroy (&eager);
    isv_reader_destroy (&lazy);
}

//  Reading the file must end in a fatal error: msg, detail starting so
static void
s_expect_fatal (s_test_t *t, const char *name, const char *msg, const char *detail)
{
    char path[128];
    s_path (t, name, path, sizeof path);
    vd_error_t err;
    vd_error_clear (&err);
    isv_reader_t *reader = isv_reader_open (path, NULL, &err);
    isv_row_t row;
    int rc = 0;
    while (reader && (rc = isv_reader_next (reader, &row, &err)) == 1)
        ;
    s_check (t, name,
             reader && rc == -1 && strcmp (err.msg, msg) == 0 &&
                 strncmp (err.detail, detail, strlen (detail)) == 0 &&
                 strcmp (err.file, path) == 0);
    isv_reader_destroy (&reader);
}

typedef struct {
    const char *name;
    const char *text;
} s_part_t;

#define S_MAIN_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
#define S_RELS_NS "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\""
#define S_OFFICE_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

static const s_part_t s_xlsx_parts[] = {
    {"[Content_Types].xml",
     "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
     "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
     "<Default Extension=\"rels\" ContentType=\"application/"
     "vnd.openxmlformats-package.relationships+xml\"/>"
     "<Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>"},
    {"_rels/.rels", "<Relationships " S_RELS_NS "><Relationship Id=\"rId1\" Type=\"" S_OFFICE_REL
                    "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
    //  The first sheet in workbook order is sheet2.xml, not sheet1.xml
    {"xl/workbook.xml", "<workbook " S_MAIN_NS " xmlns:r=\"" S_OFFICE_REL "\"><sheets>"
                        "<sheet name=\"Produits\" sheetId=\"2\" r:id=\"rId2\"/>"
                        "<sheet name=\"Autre\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
    {"xl/_rels/workbook.xml.rels",
     "<Relationships " S_RELS_NS ">"
     "<Relationship Id=\"rId1\" Type=\"" S_OFFICE_REL "/worksheet\" "
     "Target=\"worksheets/sheet1.xml\"/>"
     "<Relationship Id=\"rId2\" Type=\"" S_OFFICE_REL "/worksheet\" "
     "Target=\"/xl/worksheets/sheet2.xml\"/>"
     "<Relationship Id=\"rId3\" Type=\"" S_OFFICE_REL "/styles\" Target=\"styles.xml\"/>"
     "<Relationship Id=\"rId4\" Type=\"" S_OFFICE_REL "/sharedStrings\" "
     "Target=\"sharedStrings.xml\"/></Relationships>"},
    {"xl/sharedStrings.xml",
     "<sst " S_MAIN_NS " count=\"5\" uniqueCount=\"5\"><si><t>Code</t></si>"
     "<si><t>D\xC3\xA9signation</t></si>"
     "<si><r><t>Cr&#233;mant </t></r><r><rPr><b/></rPr><t>d&apos;Alsace</t></r>"
     "<rPh sb=\"0\" eb=\"1\"><t>phonetic</t></rPh></si>"
     "<si><t xml:space=\"preserve\"> ligne1_x000D_\nligne2 </t></si>"
     "<si><t>Date</t></si></sst>"},
    //  cellXfs: 0 general, 1 custom date, 2 builtin 14, 3 builtin 22, 4 a
    //  number format with an "h" inside quotes; cellStyleXfs do not count
    {"xl/styles.xml",
     "<styleSheet " S_MAIN_NS "><numFmts count=\"2\">"
     "<numFmt numFmtId=\"164\" formatCode=\"dd/mm/yyyy\"/>"
     "<numFmt numFmtId=\"165\" formatCode=\"#,##0.00\\ &quot;hl&quot;\"/></numFmts>"
     "<cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
     "<cellXfs count=\"5\"><xf numFmtId=\"0\"/><xf numFmtId=\"164\"/>"
     "<xf numFmtId=\"14\"/><xf numFmtId=\"22\"/><xf numFmtId=\"165\"/></cellXfs>"
     "</styleSheet>"},
    {"xl/worksheets/sheet2.xml",
     "<worksheet " S_MAIN_NS "><dimension ref=\"A1:E6\"/><sheetData>"
     "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
     "<c r=\"C1\" t=\"s\"><v>4</v></c><c r=\"D1\" t=\"inlineStr\"><is><t>Prix</t></is></c>"
     "<c r=\"E1\" t=\"inlineStr\"><is><t>Actif</t></is></c></row>"
     "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>CREM-01</t></is></c>"
     "<c r=\"B2\" t=\"s\"><v>2</v></c><c r=\"C2\" s=\"1\"><v>45366</v></c>"
     "<c r=\"D2\" s=\"4\"><v>12.5</v></c><c r=\"E2\" t=\"b\"><v>1</v></c></row>"
     "<row r=\"4\"><c r=\"A4\"><v>3</v></c><c r=\"C4\" s=\"3\"><v>45366.5</v></c>"
     "<c r=\"D4\"><v>1.1000000000000001</v></c><c r=\"F4\" s=\"1\"/></row>"
     "<row r=\"5\"><c r=\"A5\" t=\"s\"><v>3</v></c><c r=\"B5\"><v>1E-05</v></c>"
     "<c r=\"C5\" s=\"2\"><v>0.75</v></c><c r=\"D5\"><f>A4*2</f><v>6</v></c>"
     "<c r=\"E5\" t=\"str\"><f>\"x\"</f><v>calc</v></c></row>"
     "<row r=\"6\"><c r=\"A6\" t=\"s\"><v>99</v></c></row><row r=\"7\"/>"
     "<row r=\"8\"><c r=\"B8\"><v>-2.5E+16</v></c><c r=\"C8\" t=\"e\"><v>#N/A</v></c></row>"
     "</sheetData></worksheet>"},
    {"xl/worksheets/sheet1.xml",
     "<worksheet " S_MAIN_NS "><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\">"
     "<is><t>wrong sheet</t></is></c></row></sheetData></worksheet>"},
};

static void
s_write_zip (s_test_t *t, const char *name, const s_part_t *parts, size_t nparts)
{
    char path[128];
    s_path (t, name, path, sizeof path);
    int code = 0;
    zip_t *zip = zip_open (path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    for (size_t i = 0; zip && i < nparts; i++) {
        zip_source_t *source = zip_source_buffer (zip, parts[i].text, strlen (parts[i].text), 0);
        if (!source || zip_file_add (zip, parts[i].name, source, ZIP_FL_OVERWRITE) < 0) {
            zip_source_free (source); //  accepts NULL
            zip_discard (zip);
            zip = NULL;
        }
    }
    if (!zip || zip_close (zip) < 0) {
        s_fail (t, name, "zip written", zip ? zip_strerror (zip) : "zip_open failed");
        if (zip)
            zip_discard (zip);
    }
}

static void
s_test_xlsx (s_test_t *t)
{
    size_t nparts = sizeof s_xlsx_parts / sizeof s_xlsx_parts[0];
    s_write_zip (t, "produits.xlsx", s_xlsx_parts, nparts);
    s_expect (t, "produits.xlsx", NULL, 0, NULL, "utf-8", 0, false,
              "1:Code|D\xC3\xA9signation|Date|Prix|Actif\n"
              "2:CREM-01|Cr\xC3\xA9mant d'Alsace|2024-03-15|12.5|true\n"
              "4:3||2024-03-15 12:00:00|1.1||\n"
              "5: ligne1\\r\\nligne2 |0.00001|18:00:00|6|calc\n"
              "6!bad shared string index:\n7:\n8:|-25000000000000000|#N/A\n");
    //  No workbook.xml: sheet1.xml is taken
    s_write_zip (t, "fallback.xlsx", s_xlsx_parts + nparts - 1, 1);
    s_expect (t, "fallback.xlsx", NULL, 0, NULL, "utf-8", 0, false, "1:wrong sheet\n");
    //  1904 date system (old Mac workbooks): 43904 is 2024-03-15
    static const s_part_t mac[] = {
        {"xl/workbook.xml", "<workbook " S_MAIN_NS "><workbookPr date1904=\"1\"/>"
                            "<sheets><sheet name=\"A\" sheetId=\"1\"/></sheets></workbook>"},
        {"xl/styles.xml", "<styleSheet " S_MAIN_NS "><cellXfs count=\"2\">"
                          "<xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>"},
        {"xl/worksheets/sheet1.xml",
         "<worksheet " S_MAIN_NS "><sheetData><row r=\"3\"><c r=\"B3\" s=\"1\">"
         "<v>43904.25</v></c></row></sheetData></worksheet>"},
    };
    s_write_zip (t, "mac.xlsx", mac, 3);
    s_expect (t, "mac.xlsx", NULL, 0, NULL, "utf-8", 0, false, "3:|2024-03-15 06:00:00\n");
    s_write_zip (t, "no-sheet.xlsx", s_xlsx_parts, 2);
    s_refused (t, "no-sheet.xlsx", NULL, 0, NULL, "no worksheet in xlsx file");
    s_refused (t, "not-a-zip.xlsx", S_DATA ("Code;Nom\n1;x\n"), NULL, "not a valid xlsx file");
    s_refused (t, "missing.xlsx", NULL, 0, NULL, "could not open file");
    static const s_part_t broken[] = {
        {"xl/worksheets/sheet1.xml",
         "<worksheet><sheetData><row r=\"1\"><c><v>1</v></c></row><row></sheetData>"},
    };
    s_write_zip (t, "broken.xlsx", broken, 1);
    s_expect_fatal (t, "broken.xlsx", "xlsx part is not valid xml", "xl/worksheets/sheet1.xml: ");
}

//  tests/fixtures/isavigne_xls/produits.xls was written with python3-xlwt
//  (Debian package): French product rows, accents, a date column
static void
s_test_xls (s_test_t *t)
{
    s_refused (t, "not-really.xls", S_DATA ("Code;Nom\n1;x\n"), NULL, "not a valid xls file");
    s_refused (t, "missing.xls", NULL, 0, NULL, "could not open file");
    const char *root = getenv ("VD_SOURCE_DIR");
    char path[512];
    snprintf (path, sizeof path, "%s/tests/fixtures/isavigne_xls/produits.xls",
              root && *root ? root : ".");
    vd_error_t err;
    vd_error_clear (&err);
    isv_reader_t *reader = isv_reader_open (path, NULL, &err);
    if (!reader) {
        s_fail (t, "produits.xls", "open", err.msg);
        return;
    }
    vd_buf_t got;
    vd_buf_init (&got, 64 * 1024);
    const char *want =
        "1:Code|D\xC3\xA9signation|Mill\xC3\xA9sime|Prix TTC|Mise en vente|Stock\n"
        "2:RIES-22|Riesling R\xC3\xA9serve|2022|12.5|2024-03-15|120\n"
        "3:CREM-BR|Cr\xC3\xA9mant d'Alsace Brut \xC2\xAB S\xC3\xA9lection \xC2\xBB||9.9|"
        "2023-11-02 10:30:00|48\n"
        "4:GEWU-21|Gewurztraminer Vendanges Tardives|2021|24|2024-01-05|0\n";
    if (s_dump (reader, false, &got) < 0 || strcmp (vd_buf_str (&got), want) != 0)
        s_fail (t, "produits.xls", want, vd_buf_str (&got));
    else
        s_check (t, "produits.xls",
                 strcmp (isv_reader_format (reader), "xls") == 0 &&
                     isv_reader_separator (reader) == 0);
    vd_buf_free (&got);
    isv_reader_destroy (&reader);
}

//  Removes the fixtures directory (flat: only files)
static void
s_remove_dir (const char *dir)
{
    static const char *names[] = {
        "semicolon.csv",    "comma.csv",
        "tab.txt",          "consistent.csv",
        "bom-crlf.CSV",     "windows-1252.csv",
        "latin9.csv",       "empty.csv",
        "bom-only.csv",     "unknown-encoding.csv",
        "utf-16.csv",       "quoted.csv",
        "lone-cr.csv",      "empty-line.csv",
        "unterminated.csv", "nul.csv",
        "garbage.csv",      "fields.csv",
        "long.csv",         "split-crlf.csv",
        "late-1252.csv",    "produits.xlsx",
        "fallback.xlsx",    "mac.xlsx",
        "no-sheet.xlsx",    "not-a-zip.xlsx",
        "broken.xlsx",      "not-really.xls",
        "notes.pdf",
    };
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        (void)unlink (path); //  absent when its test failed early
    }
    (void)rmdir (dir); //  best effort: a temporary directory
}

int
isv_reader_test (bool verbose)
{
    s_test_t t = {.verbose = verbose};
    snprintf (t.dir, sizeof t.dir, "/tmp/isv_reader_test_XXXXXX");
    if (!mkdtemp (t.dir)) {
        if (verbose)
            printf ("isv_reader: FAIL mkdtemp: %s\n", strerror (errno));
        return 1;
    }
    s_test_separators_and_encodings (&t);
    s_test_structure (&t);
    s_test_limits (&t);
    s_test_streaming (&t);
    s_test_lazy (&t);
    s_test_xlsx (&t);
    s_test_xls (&t);
    s_refused (&t, "notes.pdf", S_DATA ("%PDF-1.4"), NULL, "unsupported file type");
    isv_reader_destroy (NULL);
    s_remove_dir (t.dir);
    if (verbose)
        printf ("isv_reader: %d failure(s)\n", t.failures);
    return t.failures ? 1 : 0;
}
