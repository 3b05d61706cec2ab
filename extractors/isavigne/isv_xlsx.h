/*  isv_xlsx - rows of the first worksheet of a .xlsx workbook for
    isv_reader (private to extractors/isavigne).

    libzip opens the archive; libxml2's streaming reader reads each part
    straight from zip_fread, so the worksheet is never held in memory. The
    shared strings table and the date styles are loaded at open (with
    ceilings). Cells are placed by their reference ("C7"), missing cells
    are empty fields; dates come as "yyyy-mm-dd", "yyyy-mm-dd HH:MM:SS" or
    "HH:MM:SS" (time only), numbers as plain decimals, booleans as "true"
    or "false".

    libxml2 must be initialised (xmlInitParser) by the main thread before
    readers are used from several threads; isv_xlsx_open calls it too.
*/
#ifndef ISV_XLSX_H_INCLUDED
#define ISV_XLSX_H_INCLUDED

#include "isv_reader.h"

#define ISV_XLSX_MAX_STRINGS_BYTES (128L * 1024 * 1024) /* shared strings */
#define ISV_XLSX_MAX_STRINGS (4L * 1024 * 1024)         /* their count    */
#define ISV_XLSX_MAX_STYLES 65536                       /* cellXfs        */

typedef struct isv_xlsx isv_xlsx_t;

/*  Opens path. Returns NULL with err set when the file is not a zip, has
    no worksheet, or its shared strings or styles cannot be read. */
isv_xlsx_t *isv_xlsx_open (const char *path, vd_error_t *err);

/*  As isv_reader_next. */
int isv_xlsx_next (isv_xlsx_t *self, isv_row_t *row, vd_error_t *err);

void isv_xlsx_destroy (isv_xlsx_t **self_p);

#endif
