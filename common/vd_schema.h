/*  vd_schema - the canonical schema, described once.

    One const column array per table (vd_schema.c). The normalizer applies
    each column's rule, the msgpack record carries the "carried" columns in
    this order, the loader builds its COPY column list and merge SQL from
    it, and the migrations create and extend the tables from it. Adding a
    column is one line.
*/
#ifndef VD_SCHEMA_H_INCLUDED
#define VD_SCHEMA_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

/*  Every canonical table also has this column (not in the column arrays):
    the loader's hash of the content it last wrote into the row. The merge
    rewrites a row only when it differs (load_sql); a writer that changes
    a row outside the loader must set it to NULL, which also drops the
    per-line hashes of its connector (ops.line_hashes, vd_migrate), so
    every line of its files is compared at the next run. */
#define VD_SCHEMA_HASH_COLUMN "content_hash"

/*  SQL: whether the connector row c has full_snapshot set (its rows missing
    from an export are gone; every line of its files is compared). */
#define VD_SQL_FULL_SNAPSHOT(c)                                                                    \
    "lower(coalesce(" c ".settings ->> 'full_snapshot', '')) IN ('true', '1', 'yes', 'on')"

/*  SQL: removes connector $1 unless a run of it is queued or running (a
    webhook connector's open run does not count); returns its name when
    removed. The orchestrator's remove and the loader's (with purge). */
#define VD_SQL_REMOVE_CONNECTOR                                                                    \
    "DELETE FROM ops.connectors WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM ops.sync_runs"       \
    " WHERE connector = $1 AND status IN ('queued', 'running') AND trigger <> 'webhook')"          \
    " RETURNING name"

/*  The lines of a warning summary (ops.warning_lines) are kept in blocks
    of 2^VD_WARN_BLOCK_BITS lines of their file, one row each (load_warn
    writes them, the API reads them page by page). */
#define VD_WARN_BLOCK_BITS 16
#define VD_WARN_BLOCK_SQL "16" /* the same, in SQL (line >> 16) */

typedef enum {
    VD_SQL_TEXT,
    VD_SQL_TEXT_ARRAY,
    VD_SQL_INT,
    VD_SQL_NUMERIC,
    VD_SQL_BOOL,
    VD_SQL_DATE,
    VD_SQL_TIMESTAMPTZ,
    VD_SQL_JSONB
} vd_sql_type_t;

/*  Inputs a column may read. */
#define VD_COL_INPUTS 4

/*  How the normalizer computes a column from a raw record's input fields
    (in[0..3]: input field names; NULL in[0] means the column's own name;
    "=name" is the value the normalizer computed for column `name` of the
    same record, an earlier column: a derived value stays a function of the
    record alone).
    A failure on a VD_COL_REQUIRED column rejects the record; on another
    column it nulls the value and adds a warning with the raw value. */
typedef enum {
    VD_RULE_DERIVED,       /* set by the loader, not carried            */
    VD_RULE_KEY,           /* the table's key (vd_table_t.key_kind)     */
    VD_RULE_SOURCE,        /* the record's source name                  */
    VD_RULE_CONNECTOR,     /* the connector whose run wrote the row     */
    VD_RULE_SOURCE_ID,     /* id in the source (vd_table_t.id_parts)    */
    VD_RULE_TEXT,          /* cleaned text                              */
    VD_RULE_LOWER,         /* cleaned, folded text (units, channels); the
                              first of in[0..3] given                   */
    VD_RULE_EMAIL,         /* lower-cased email (kept when invalid)     */
    VD_RULE_EMAIL_INVALID, /* bool: in[0] is a non-empty invalid email  */
    VD_RULE_PHONE,
    VD_RULE_MONEY,      /* in[0] excl. VAT, else in[1] incl. VAT / (1+rate) */
    VD_RULE_LINE_TOTAL, /* MONEY of in[0], in[1]; else in[2] quantity x in[3] unit price */
    VD_RULE_NUMBER,
    VD_RULE_INT,
    VD_RULE_VINTAGE, /* 4-digit year 1900..2100, or text holding one */
    VD_RULE_DATE,
    VD_RULE_INSTANT,        /* timestamptz; local times in the configured zone */
    VD_RULE_BOOL,           /* oui/non/yes/no/true/false/1/0; in[1] a default */
    VD_RULE_LIST,           /* text[] split on , ; / + and " et "        */
    VD_RULE_CATEGORY,       /* enum from colour/family words in in[0..2] */
    VD_RULE_PRICE_SEGMENT,  /* from list price incl. VAT: in[0] excl., in[1] incl. */
    VD_RULE_VOLUME_CL,      /* "75 cl", "0,75 L", "6 x 75 cl", "Magnum" -> cl (vd_packaging) */
    VD_RULE_PACK_SIZE,      /* in[0] given, else the N of in[1] "N x 75 cl", else 1 */
    VD_RULE_QUANTITY,       /* number; in[1] document type: negative on an invoice is a reject */
    VD_RULE_BOTTLES,        /* in[0] quantity x unit-table factor of in[1];
                               no unit: x the 75 cl equivalents of the
                               packaging in[2] (vd_packaging)            */
    VD_RULE_COST,           /* in[0] given, else from total in[1] and margin
                               in[2]: total - amount, or total x (1 - p %) */
    VD_RULE_MARGIN_PERCENT, /* in[0] given, else margin in[2] written with
                               '%', else amount in[2] / total in[1] x 100 */
    VD_RULE_AVAILABLE,      /* in[0] given, else in[1] - in[2] (missing in[2] = 0) */
    VD_RULE_CUSTOMER_REF,   /* "<source>-<in[0]>", NULL when empty        */
    VD_RULE_PRODUCT_REF,    /* product key of code in[0], NULL when empty */
    VD_RULE_CHANNEL,        /* email, sms, phone, website, direct         */
    VD_RULE_JSON            /* the input as jsonb text                    */
} vd_rule_t;

#define VD_COL_KEY 0x01      /* the primary key                           */
#define VD_COL_REQUIRED 0x02 /* unusable value rejects the record         */
#define VD_COL_STICKY                                                                              \
    0x04 /* bool a sync never clears (consent flags);                                              \
            with in[2] set, cleared when that column                                               \
            changes (email_invalid follows email)    */
#define VD_COL_NOCOMPARE                                                                           \
    0x08 /* written, but a change alone does not make                                              \
            the row "updated"                         */

#define VD_COL_INIT_KEY                                                                            \
    0x10 /* derived: a new row gets its key (person_key: every customer is                         \
            its own person until matched)                                  */

typedef struct {
    const char *name;
    vd_sql_type_t type;
    unsigned flags;
    vd_rule_t rule;
    const char *in[VD_COL_INPUTS];
    /*  A derived column's value in a new row (an SQL literal, the column's
        DEFAULT): what the run's end would compute for a row nothing refers
        to yet, so a new customer without sales needs no second write. */
    const char *initial;
} vd_column_t;

typedef enum {
    VD_KEY_SOURCE_PREFIX, /* "<source>-<source_id>"                      */
    VD_KEY_PRODUCT_CODE   /* normalised product code, else "<SOURCE>-<source_id>" */
} vd_key_kind_t;

typedef struct {
    const char *name; /* input field                                  */
    bool as_code;     /* normalised like a product code               */
} vd_id_part_t;

#define VD_TABLE_KEY_MAPPED 0x01 /* keys kept in ops.key_map (stable codes) */
#define VD_TABLE_ODOO_WINS 0x02  /* once Odoo wrote a row, other sources don't */
#define VD_TABLE_CUSTOMER_AGG                                                                      \
    0x04 /* changed rows mark their customer_key dirty:                                            \
           aggregates recomputed at the run's end */

#define VD_TABLE_EVENTS                                                                            \
    0x08 /* rows are contact events: the loader matches                                            \
           customers by email or client code and applies                                           \
           their effects (opt-out, invalid email)    */

typedef struct {
    const char *name; /* "sales_lines"                           */
    const char *key;  /* key column                              */
    vd_key_kind_t key_kind;
    vd_id_part_t id_parts[3]; /* source_id = parts joined by '-', unless
                                 the input field "source_id" is given    */
    unsigned flags;
    const vd_column_t *columns;
    size_t ncolumns;
} vd_table_t;

typedef enum {
    VD_TABLE_PRODUCTS,
    VD_TABLE_CUSTOMERS,
    VD_TABLE_SALES,
    VD_TABLE_STOCK,
    VD_TABLE_CONTACTS,
    VD_TABLE_COUNT
} vd_table_id_t;

/*  The tables, in load order (products, customers, stock, sales, contacts
    is the order extractors should send). */
const vd_table_t *vd_schema_table (int id);
/*  Table id by name, -1 when unknown. */
int vd_schema_table_id (const char *name);
/*  Column index by name, -1 when unknown. */
int vd_schema_column (const vd_table_t *t, const char *name);
/*  True when the column travels in canonical records (rule != DERIVED). */
bool vd_schema_carried (const vd_column_t *c);
/*  Number of carried columns (the length of a canonical record). */
size_t vd_schema_ncarried (const vd_table_t *t);
/*  Keys by source, the one place their format is written: a record of
    `source` is "<source>-<id>" (customers, sales lines, stock, events;
    "isavigne-C0042"); a product without a code "<SOURCE>-<id>"
    ("ODOO-17"). Both append to out: 0, -1 when it refuses. The SQL
    expression of the first, for statements written as constants:
    VD_SCHEMA_KEY_SQL ("isavigne", "c.external_ref"). */
int vd_schema_key (vd_buf_t *out, const char *source, const char *id, size_t len);
/*  The "<source>-" a key of source starts with, for an id written after it. */
int vd_schema_key_prefix (vd_buf_t *out, const char *source);
int vd_schema_product_fallback_key (vd_buf_t *out, const char *source, const char *id, size_t len);
#define VD_SCHEMA_KEY_SQL(source, expr) "('" source "-' || " expr ")"

/*  True when every carried column is compared (none is NOCOMPARE). */
bool vd_schema_compares_all (const vd_table_t *t);
/*  SQL type name ("numeric", "text[]", ...). */
const char *vd_schema_sql_type (vd_sql_type_t type);
/*  Known sources ("isavigne", "odoo", "brevo", "powerautomate"); -1 if not. */
int vd_schema_source_id (const char *source);

/*  True when `name` is an input field some column of t reads (what a
    mapping may feed). */
bool vd_schema_has_input (const vd_table_t *t, const char *name);

/*  A record's source_id from its id parts (t->id_parts order; parts[i]
    NULL when the record has none): each part cleaned (vd_text_clean), or
    normalised like a product code (as_code), joined by '-'. Appended to
    out. Returns 0; -1 when a part is missing or empty (*bad: its index),
    or on the buffer's ceiling. The normalizer keys records with it; an
    extractor lists the ids of a full snapshot with it. */
int vd_schema_source_id_build (const vd_table_t *t, const char *const *parts, const size_t *lens,
                               vd_buf_t *out, int *bad);

/*  Document types (one list, README "Document types"): 1 when the folded
    type names an invoice (a negative quantity is rejected), -1 a credit
    note (a positive quantity is rejected), 0 any other type. Words are
    matched whole ("facture client" is an invoice). */
int vd_schema_document_sign (const char *folded);
/*  A PostgreSQL regular expression matching a document_type that is a
    credit note (the same list), for the quality report. malloc'ed. */
char *vd_schema_credit_note_regex (void);

int vd_schema_test (bool verbose);

#endif
