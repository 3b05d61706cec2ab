/*  isv_csv - streaming CSV records for isv_reader (private to
    extractors/isavigne).

    A state machine over a fixed 64 KiB input buffer: quoted fields with
    separators, doubled quotes and line ends inside; CRLF, LF or CR line
    ends. Each record is parsed in the file's bytes, then converted to
    UTF-8 (a record that is not valid UTF-8 in a UTF-8 file is converted
    from Windows-1252). Per-record problems give an error row; memory is
    bounded by ISV_MAX_LINE whatever the file size.
*/
#ifndef ISV_CSV_H_INCLUDED
#define ISV_CSV_H_INCLUDED

#include "isv_reader.h"

#define ISV_SNIFF_BYTES (1024 * 1024) /* sample read to detect the encoding */

typedef struct isv_csv isv_csv_t;

/*  Opens path: refuses a binary file (more than 1% NUL or control bytes
    in the first 64 KiB) or a UTF-16 one; reads a sample of at most
    ISV_SNIFF_BYTES to detect the encoding (a UTF-8 BOM, else valid UTF-8,
    else Windows-1252; a UTF-8 BOM wins over the encoding asked for) and the
    separator, then goes back to the start. encoding: NULL to detect, or a
    label for vd_utf8_encoding_name. Returns NULL with err set. */
isv_csv_t *isv_csv_open (const char *path, const char *encoding, vd_error_t *err);

/*  The canonical encoding name and the separator in use. */
const char *isv_csv_encoding (const isv_csv_t *self);
char isv_csv_separator (const isv_csv_t *self);

/*  As isv_reader_next. */
int isv_csv_next (isv_csv_t *self, isv_row_t *row, vd_error_t *err);
/*  isv_reader_set_lazy, isv_reader_convert */
void isv_csv_set_lazy (isv_csv_t *self, bool lazy);
/*  isv_reader_raw */
const char *isv_csv_raw (isv_csv_t *self, const isv_row_t *row);
int isv_csv_convert (isv_csv_t *self, isv_row_t *row, vd_error_t *err);

void isv_csv_destroy (isv_csv_t **self_p);

#endif
