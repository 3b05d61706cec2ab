/*  isv_mapping - which export files feed which canonical table, and which
    source column gives which normalizer input. Configuration, not code:
    the two known iSaVigne dialects are built in, and a mapping file (the
    connector's `mapping` setting) replaces them for a third one.

    Format (INI-like; '#' comments; names compared after the column-name
    rule, so "Code Client" = "code_client"):

        [sales_lines]                  # a canonical table
        files = *vente*                # file name patterns (fnmatch, case-insensitive)
        customer_code = client_code | code_client   # input = columns, first present wins
        date_sale = date_livraison | date
        ...

    The inputs a table knows are listed by `extractor-isavigne
    --print-mapping` (the built-in mapping) and in the README.
*/
#ifndef ISV_MAPPING_H_INCLUDED
#define ISV_MAPPING_H_INCLUDED

#include "vendange.h"

#define ISV_MAX_ALIASES 8

typedef struct {
    char *input;                    /* normalizer input field name     */
    char *columns[ISV_MAX_ALIASES]; /* source column names, normalised */
    size_t ncolumns;
} isv_field_map_t;

typedef struct {
    int table; /* vd_table_id_t                   */
    char *patterns[ISV_MAX_ALIASES];
    size_t npatterns;
    isv_field_map_t *fields;
    size_t nfields;
} isv_table_map_t;

typedef struct isv_mapping isv_mapping_t;

/*  The built-in mapping (both dialects). */
isv_mapping_t *isv_mapping_default (vd_error_t *err);
/*  Parses a mapping text; NULL with err naming the line on a bad line,
    an unknown table or an input the table does not have. */
isv_mapping_t *isv_mapping_parse (const char *text, size_t len, vd_error_t *err);
/*  Reads a mapping file. */
isv_mapping_t *isv_mapping_load (const char *path, vd_error_t *err);
void isv_mapping_destroy (isv_mapping_t **self_p);

/*  The built-in mapping's text. */
const char *isv_mapping_default_text (void);

/*  Tables in processing order. */
size_t isv_mapping_size (const isv_mapping_t *self);
const isv_table_map_t *isv_mapping_at (const isv_mapping_t *self, size_t i);
/*  The table a file name belongs to, NULL when none. */
const isv_table_map_t *isv_mapping_match (const isv_mapping_t *self, const char *filename);

/*  Position of each input in a header row: cols[i] = the input name fed
    by header column i, or NULL. Returns the number of header cells that
    matched. */
size_t isv_mapping_header (const isv_table_map_t *table, const char *const *header, size_t ncells,
                           const char **cols);

int isv_mapping_test (bool verbose);

#endif
