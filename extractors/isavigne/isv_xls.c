/*  isv_xls - rows of the first worksheet of a .xls workbook (see isv_xls.h). */
#include "vendange.h"
#include "isv_xls.h"
#include "isv_fields.h"
#include <freexl.h>
#include <sys/stat.h>

struct isv_xls {
    const void *handle; /* libfreexl workbook                    */
    unsigned int rows;  /* in the first worksheet                */
    unsigned short columns;
    unsigned int row; /* next row, 0-based                     */
    char long_error[64];
    char fields_error[64];
    isv_fields_t fields;
};

static const char *
s_freexl_error (int rc)
{
    switch (rc) {
    case FREEXL_FILE_NOT_FOUND:
        return "file not found";
    case FREEXL_INSUFFICIENT_MEMORY:
        return "out of memory";
    case FREEXL_INVALID_CFBF_HEADER:
    case FREEXL_CFBF_INVALID_SIGNATURE:
        return "not an OLE2 compound file";
    case FREEXL_CFBF_READ_ERROR:
    case FREEXL_CFBF_SEEK_ERROR:
        return "read error";
    case FREEXL_BIFF_WORKBOOK_NOT_FOUND:
        return "no workbook stream";
    case FREEXL_BIFF_INVALID_BOF:
    case FREEXL_BIFF_INVALID_SST:
    case FREEXL_BIFF_ILLEGAL_SST_INDEX:
        return "corrupt BIFF records";
    case FREEXL_UNSUPPORTED_CHARSET:
    case FREEXL_INVALID_CHARACTER:
        return "unsupported or invalid character set";
    case FREEXL_CRAFTED_FILE:
        return "corrupt or crafted file";
    default:
        return "invalid file";
    }
}

static int
s_fail_open (vd_error_t *err, const char *msg, int rc)
{
    vd_error_set (err, VD_ERR_PERMANENT, "%s", msg);
    if (rc != FREEXL_OK)
        vd_error_detail (err, "libfreexl: %s (code %d)", s_freexl_error (rc), rc);
    return -1;
}

//  Opens the workbook and selects its first worksheet
static int
s_open_workbook (isv_xls_t *self, const char *path, vd_error_t *err)
{
    struct stat st;
    if (stat (path, &st) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not open file");
        return vd_error_detail (err, "%s", strerror (errno));
    }
    if (st.st_size > ISV_XLS_MAX_BYTES) {
        vd_error_set (err, VD_ERR_PERMANENT, "xls file too large");
        vd_error_detail (err, "%lld bytes, at most %ld", (long long)st.st_size, ISV_XLS_MAX_BYTES);
        return -1;
    }
    int rc = freexl_open (path, &self->handle);
    if (rc != FREEXL_OK)
        return s_fail_open (err, "not a valid xls file", rc);
    unsigned int info = 0;
    rc = freexl_get_info (self->handle, FREEXL_BIFF_PASSWORD, &info);
    if (rc != FREEXL_OK)
        return s_fail_open (err, "not a valid xls file", rc);
    if (info == FREEXL_BIFF_OBFUSCATED)
        return s_fail_open (err, "xls file is password-protected", FREEXL_OK);
    rc = freexl_get_info (self->handle, FREEXL_BIFF_SHEET_COUNT, &info);
    if (rc != FREEXL_OK || info == 0)
        return s_fail_open (err, "no worksheet in xls file", rc);
    rc = freexl_select_active_worksheet (self->handle, 0);
    if (rc == FREEXL_OK)
        rc = freexl_worksheet_dimensions (self->handle, &self->rows, &self->columns);
    if (rc != FREEXL_OK)
        return s_fail_open (err, "could not read the first worksheet of the xls file", rc);
    return 0;
}

isv_xls_t *
isv_xls_open (const char *path, vd_error_t *err)
{
    isv_xls_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    isv_fields_init (&self->fields, ISV_MAX_LINE);
    snprintf (self->long_error, sizeof self->long_error, "row longer than %d bytes", ISV_MAX_LINE);
    snprintf (self->fields_error, sizeof self->fields_error, "more than %d fields in row",
              ISV_MAX_FIELDS);
    if (s_open_workbook (self, path, err) < 0)
        isv_xls_destroy (&self);
    return self;
}

void
isv_xls_destroy (isv_xls_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    isv_xls_t *self = *self_p;
    //  libfreexl wants a close even after a failed open
    if (self->handle)
        (void)freexl_close (self->handle); //  only frees memory
    isv_fields_free (&self->fields);
    free (self);
    *self_p = NULL;
}

//  Adds one cell as text; returns 0, -1 on ceiling
static int
s_add_cell (isv_xls_t *self, const FreeXL_CellValue *cell)
{
    char text[32];
    const char *s = NULL;
    switch (cell->type) {
    case FREEXL_CELL_INT:
        snprintf (text, sizeof text, "%d", cell->value.int_value);
        return isv_fields_add (&self->fields, text, strlen (text));
    case FREEXL_CELL_DOUBLE:
        return isv_fields_add_number (&self->fields, cell->value.double_value);
    case FREEXL_CELL_TEXT:
    case FREEXL_CELL_SST_TEXT:
    case FREEXL_CELL_DATE:
    case FREEXL_CELL_DATETIME:
    case FREEXL_CELL_TIME:
        s = cell->value.text_value ? cell->value.text_value : "";
        break;
    default: //  FREEXL_CELL_NULL
        s = "";
    }
    //  libfreexl converts text to UTF-8 (iconv from the workbook's code
    //  page); a stray invalid string is read as Windows-1252
    size_t len = strlen (s);
    if (vd_utf8_valid (s, len))
        return isv_fields_add (&self->fields, s, len);
    return isv_fields_add_converted (&self->fields, "windows-1252", s, len);
}

int
isv_xls_next (isv_xls_t *self, isv_row_t *row, vd_error_t *err)
{
    assert (self);
    if (self->row >= self->rows)
        return 0;
    unsigned int index = self->row++;
    long line = (long)index + 1;
    const char *error = NULL;
    isv_fields_reset (&self->fields);
    for (unsigned short col = 0; col < self->columns; col++) {
        FreeXL_CellValue cell;
        int rc = freexl_get_cell_value (self->handle, index, col, &cell);
        if (rc != FREEXL_OK) {
            vd_error_set (err, VD_ERR_PERMANENT, "could not read xls cell");
            vd_error_detail (err, "row %u, column %u: libfreexl: %s (code %d)", index + 1,
                             (unsigned)col + 1, s_freexl_error (rc), rc);
            err->line = line;
            return -1;
        }
        //  Empty cells past the field limit (a wide sheet) are not an error
        if (col >= ISV_MAX_FIELDS) {
            if (cell.type != FREEXL_CELL_NULL && !error)
                error = self->fields_error;
            continue;
        }
        if (!error && s_add_cell (self, &cell) < 0)
            error = self->long_error;
    }
    //  Joined even for an error row: the raw text is what is left to show
    if (isv_fields_join_raw (&self->fields) < 0 && !error)
        error = self->long_error;
    if (error)
        isv_fields_error_row (&self->fields, line, error, row);
    else
        isv_fields_row (&self->fields, line, row);
    return 1;
}
