/*  isv_xls - rows of the first worksheet of a .xls (BIFF) workbook for
    isv_reader, read with libfreexl (private to extractors/isavigne).

    libfreexl loads the whole workbook, so the file size has a ceiling
    (ISV_XLS_MAX_BYTES); rows are then handed out one at a time. Dates come
    as "yyyy-mm-dd", "yyyy-mm-dd HH:MM:SS" or "HH:MM:SS" (libfreexl reads
    the cell formats); numbers as plain decimals.
*/
#ifndef ISV_XLS_H_INCLUDED
#define ISV_XLS_H_INCLUDED

#include "isv_reader.h"

#define ISV_XLS_MAX_BYTES (128L * 1024 * 1024)

typedef struct isv_xls isv_xls_t;

/*  Opens path. Returns NULL with err set when the file is not a readable
    .xls workbook with a worksheet. */
isv_xls_t *isv_xls_open (const char *path, vd_error_t *err);

/*  As isv_reader_next. */
int isv_xls_next (isv_xls_t *self, isv_row_t *row, vd_error_t *err);

void isv_xls_destroy (isv_xls_t **self_p);

#endif
