/*  isv_reader - rows out of one iSaVigne export file (.csv, .xlsx, .xls),
    streamed: memory does not grow with the file (a .xls is the exception:
    libfreexl loads the workbook, in a child process; .xls files are small
    by nature).

    Every row comes out as UTF-8 fields whatever the input encoding. The
    reader knows nothing of headers or mappings: the first rows are handed
    out like any other (the extractor finds the header row).

    CSV: separator (';' ',' or tab) detected on the first lines outside
    quotes; encoding detected (UTF-8 with or without BOM, else
    Windows-1252; ISO-8859-15 only when asked) unless given (a UTF-8 BOM
    wins over the encoding asked for; UTF-16 files are refused); a record
    that is not valid UTF-8 in a UTF-8 file is read as Windows-1252; a
    leading BOM is removed, fields are not trimmed; quoted fields
    with separators, doubled quotes and newlines inside; CRLF, LF or CR
    line ends; a NUL byte, a line longer than ISV_MAX_LINE bytes or a quote
    left open at the end of the file gives a row with `error` set and the
    reader goes on at the next line.

    XLSX: the first worksheet (workbook order) via libzip and libxml2's
    streaming reader; shared strings, inline strings, numbers, booleans;
    cells whose style is a date/time number format come out as
    "yyyy-mm-dd" or "yyyy-mm-dd HH:MM:SS" ("HH:MM:SS" for a time alone);
    missing cells are empty fields. Numbers are plain decimals (15
    significant digits, no exponent, integers without ".0"); booleans
    "true" / "false".

    XLS: libfreexl 1.0.6, first worksheet (files over 128 MiB refused);
    dates and numbers as for XLSX. libfreexl runs in a child process
    (isv_xls): a workbook that crashes it, or keeps it busy for over
    60 s, fails with "the xls reader crashed" / "the xls reader timed
    out", and the caller goes on.
*/
#ifndef ISV_READER_H_INCLUDED
#define ISV_READER_H_INCLUDED

#include "vendange.h"

#define ISV_MAX_LINE (1024 * 1024) /* bytes of one CSV record          */
#define ISV_MAX_FIELDS 512         /* fields in one row                */

typedef struct {
    long line; /* 1-based: first physical line (CSV) or row
                  number (XLSX/XLS) of this record            */
    size_t nfields;
    const char *const *fields; /* nfields UTF-8 strings, NUL-terminated;
                                  borrowed until the next call          */
    const size_t *lengths;
    const char *raw;   /* the record as read, converted to UTF-8 (CSV:
                          the physical lines without the final line
                          end; XLSX/XLS: fields joined by ';'); never
                          NULL; borrowed until the next call          */
    const char *error; /* NULL, or why this record is unusable
                          (structural problem: "unterminated quoted
                          field", "line longer than 1048576 bytes",
                          "NUL byte in line", "more than 512 fields
                          in line"; XLSX: "bad shared string index";
                          XLS: "xls cell holds no finite number");
                          fields are then empty (nfields is 0)        */
    const char *bytes; /* a lazy CSV record (isv_reader_set_lazy): the
                          record's bytes as read, before any conversion;
                          fields, lengths and raw are filled only by
                          isv_reader_convert. NULL otherwise          */
    size_t nbytes;
} isv_row_t;

typedef struct isv_reader isv_reader_t;

/*  Opens path; the format comes from the extension (.csv, .txt, .xlsx,
    .xls, case-insensitive). encoding: NULL to detect (CSV only), or a
    label accepted by vd_utf8_encoding_name. Returns NULL with err set
    (err->file = path) when the file cannot be opened or is not of its
    format (e.g. a .xlsx that is not a zip, binary garbage in a .csv:
    more than 1% NUL or control bytes in the first 64 KiB). */
isv_reader_t *isv_reader_open (const char *path, const char *encoding, vd_error_t *err);

/*  The same, the format coming from name's extension while the bytes are
    read from path (an open descriptor's /proc/self/fd/N). */
isv_reader_t *isv_reader_open_named (const char *path, const char *name, const char *encoding,
                                     vd_error_t *err);

/*  Next row: returns 1 with *row filled, 0 at the end of the file, -1 on
    a fatal read error (err set, err->line the last line read). */
int isv_reader_next (isv_reader_t *self, isv_row_t *row, vd_error_t *err);

/*  What was detected, for logs and the run report: "csv", "xlsx", "xls";
    the encoding ("utf-8", "windows-1252", ...; "utf-8" for xlsx/xls) and
    the separator (';', ',', '\t'; 0 for xlsx/xls). */
const char *isv_reader_format (const isv_reader_t *self);

/*  Lazy records (CSV only; other formats ignore it): isv_reader_next hands
    out a record without an error as its bytes only (row->bytes), and
    isv_reader_convert, called before the next isv_reader_next, makes its
    fields. A caller that needs only some records' fields (the unchanged
    lines of a re-read file are only hashed) converts only those. */
void isv_reader_set_lazy (isv_reader_t *self, bool lazy);
/*  Fills a lazy row's fields (nothing to do for another row), but not its
    raw text: row->raw is "" until isv_reader_raw. 0, -1 with err (the
    record cannot be converted to UTF-8). */
int isv_reader_convert (isv_reader_t *self, isv_row_t *row, vd_error_t *err);
/*  The row's raw text, converted now when it was a lazy row's (a reject
    needs it); valid until the next isv_reader_next. */
const char *isv_reader_raw (isv_reader_t *self, const isv_row_t *row);
const char *isv_reader_encoding (const isv_reader_t *self);
char isv_reader_separator (const isv_reader_t *self);

void isv_reader_destroy (isv_reader_t **self_p);

/*  Self test (bad input included). Returns 0 when every check passes. */
int isv_reader_test (bool verbose);

#endif
