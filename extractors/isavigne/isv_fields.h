/*  isv_fields - the fields of one row being built, shared by the CSV, XLSX
    and XLS readers of isv_reader (private to extractors/isavigne).

    Field bytes live in one buffer, each field followed by a NUL; the
    pointer and length arrays handed out in an isv_row_t are filled by
    isv_fields_row. Every buffer has a ceiling given at init.
*/
#ifndef ISV_FIELDS_H_INCLUDED
#define ISV_FIELDS_H_INCLUDED

#include "isv_reader.h"

typedef struct {
    vd_buf_t text; /* fields, each NUL-terminated */
    vd_buf_t raw;  /* the record as read          */
    size_t count;
    size_t starts[ISV_MAX_FIELDS];
    size_t lengths[ISV_MAX_FIELDS];
    const char *pointers[ISV_MAX_FIELDS];
} isv_fields_t;

/*  Empty fields; text and raw may each grow up to max bytes. */
void isv_fields_init (isv_fields_t *self, size_t max);
void isv_fields_free (isv_fields_t *self);
/*  Forgets the fields and the raw text, keeping the storage. */
void isv_fields_reset (isv_fields_t *self);

/*  Starts a new empty field. Returns 0, -1 when the row already holds
    ISV_MAX_FIELDS fields or the text ceiling is reached. */
int isv_fields_push (isv_fields_t *self);
/*  Appends bytes to the last field (pushes one when there is none).
    Returns 0, -1 on ceiling. */
int isv_fields_append (isv_fields_t *self, const char *s, size_t len);
/*  isv_fields_push then isv_fields_append. */
int isv_fields_add (isv_fields_t *self, const char *s, size_t len);
/*  Adds a field holding s[0..len) converted from encoding to UTF-8
    (vd_utf8_convert). Returns 0, -1 on ceiling or too many fields. */
int isv_fields_add_converted (isv_fields_t *self, const char *encoding, const char *s, size_t len);
/*  Adds a number as plain decimal text: no exponent, 15 significant
    digits (Excel's precision), integers without ".0", "-0" as "0".
    Returns 0, -1 on ceiling, too many fields or a non-finite value. */
int isv_fields_add_number (isv_fields_t *self, double value);

/*  Sets raw to the fields joined by ';' (XLSX and XLS rows). Returns 0,
    -1 on ceiling. */
int isv_fields_join_raw (isv_fields_t *self);

/*  Fills row from the fields and raw (borrowed until the next change). */
void isv_fields_row (isv_fields_t *self, long line, isv_row_t *row);
/*  Fills row as an error row: no fields, raw kept, error set (a static
    string). */
void isv_fields_error_row (isv_fields_t *self, long line, const char *error, isv_row_t *row);

/*  The number as isv_fields_add_number writes it, into out (352 bytes hold
    any double). Returns 0, -1 when the value is not finite or out is too
    small. */
int isv_fields_format_number (double value, char *out, size_t size);

int isv_fields_test (bool verbose);

#endif
