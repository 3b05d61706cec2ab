/*  odoo_mapping - which Odoo model feeds which canonical table, and which
    Odoo field gives which normalizer input (the vocabulary of vd_schema's
    in[] names, as for iSaVigne). Data, not code: a built-in mapping (its
    text is `extractor-odoo --print-mapping`) that a connector's
    field_mapping file extends or overrides, e.g. for custom wine fields:

        [product.product]          # an Odoo model
        grapes = x_grapes          # input = Odoo field
        vintage = x_vintage
        colour = x_colour | x_color   # first field the server has wins
        region = x_region ?           # "?": optional, absent on some servers

    A field may name a part of a relation: "partner_id.id", "partner_id.name"
    (many2one), or a field of the related record: "order_id.date_order",
    "product_id.default_code" (read with one extra call per page). The
    fields are resolved against each server's fields_get: a mapped field
    the server does not have is an error naming model, field and version
    (unless optional). A new section needs "table =" and may set
    "domain =" (an Odoo domain in JSON).
*/
#ifndef ODOO_MAPPING_H_INCLUDED
#define ODOO_MAPPING_H_INCLUDED

#include "vendange.h"
#include <jansson.h>

#define ODOO_MAX_MODELS 8
#define ODOO_MAX_FIELDS 48
#define ODOO_MAX_ALTS 4
#define ODOO_NAME_MAX 64

typedef struct {
    char *input;               /* normalizer input field                  */
    char *alts[ODOO_MAX_ALTS]; /* "field" or "field.part"                  */
    size_t nalts;
    bool optional;
    /* after odoo_mapping_resolve: */
    bool present;                 /* false: optional and absent on this server */
    char field[ODOO_NAME_MAX];    /* field of the model                        */
    char part[ODOO_NAME_MAX];     /* "", "id", "name", or a related field      */
    char relation[ODOO_NAME_MAX]; /* related model (relational fields)       */
    char type[24];                /* fields_get type of field (or of part)     */
} odoo_field_map_t;

typedef struct {
    char *model;  /* "res.partner"                                        */
    int table;    /* vd_table_id_t                                        */
    char *domain; /* JSON text                                           */
    odoo_field_map_t fields[ODOO_MAX_FIELDS];
    size_t nfields;
} odoo_model_map_t;

typedef struct odoo_mapping odoo_mapping_t;

/*  The built-in mapping, extended by a field mapping text (NULL: none).
    NULL with err naming the line on a bad line, an unknown table or an
    input the table does not have. */
odoo_mapping_t *odoo_mapping_new (const char *text, size_t len, vd_error_t *err);
/*  Same with the text of a file (err->file set). */
odoo_mapping_t *odoo_mapping_load (const char *path, vd_error_t *err);
void odoo_mapping_destroy (odoo_mapping_t **self_p);

const char *odoo_mapping_default_text (void);
/*  Models in processing order (products, customers, stock, sales). */
size_t odoo_mapping_size (const odoo_mapping_t *self);
odoo_model_map_t *odoo_mapping_at (odoo_mapping_t *self, size_t i);

/*  fields_get of a model (borrowed, cached by the caller); NULL with err. */
typedef json_t *(odoo_fields_fn)(void *arg, const char *model, vd_error_t *err);
/*  Resolves every field of m against the server. Returns 0, -1 with err
    naming the model, the missing field and the server version. */
int odoo_mapping_resolve (odoo_model_map_t *m, odoo_fields_fn *fields_of, void *arg,
                          const char *version, vd_error_t *err);
/*  The fields to read: "id", "write_date" and every present field (new
    reference). */
json_t *odoo_mapping_read_fields (const odoo_model_map_t *m);

int odoo_mapping_test (bool verbose);

#endif
