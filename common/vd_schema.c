/*  vd_schema - the canonical schema, described once.

    Input field names (in[]) are the normalizer's vocabulary: extractors
    map their source columns onto them (iSaVigne through the mapping file,
    Odoo through its field mapping). A NULL in[0] means the input named
    like the column.
*/
#include "vendange.h"

// clang-format off
#define COMMON_COLUMNS                                                        \
    { "source", VD_SQL_TEXT, VD_COL_REQUIRED, VD_RULE_SOURCE, { NULL } },     \
    { "source_id", VD_SQL_TEXT, VD_COL_REQUIRED, VD_RULE_SOURCE_ID, { NULL } },   \
    { "connector", VD_SQL_TEXT, VD_COL_REQUIRED, VD_RULE_CONNECTOR, { NULL } }

#define SYNCED_AT { "synced_at", VD_SQL_TIMESTAMPTZ, 0, VD_RULE_DERIVED, { NULL } }

static const vd_column_t s_products[] = {
    { "product_key", VD_SQL_TEXT, VD_COL_KEY | VD_COL_REQUIRED, VD_RULE_KEY, { "code" } },
    COMMON_COLUMNS,
    { "name", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "category", VD_SQL_TEXT, 0, VD_RULE_CATEGORY, { "colour", "family", "macro_category" } },
    { "price_segment", VD_SQL_TEXT, 0, VD_RULE_PRICE_SEGMENT, { "list_price", "list_price_incl_vat" } },
    { "list_price", VD_SQL_NUMERIC, 0, VD_RULE_MONEY, { "list_price", "list_price_incl_vat" } },
    { "cost_price", VD_SQL_NUMERIC, 0, VD_RULE_MONEY, { "cost_price" } },
    { "grapes", VD_SQL_TEXT_ARRAY, 0, VD_RULE_LIST, { NULL } },
    { "flavors", VD_SQL_TEXT_ARRAY, 0, VD_RULE_LIST, { NULL } },
    { "vintage", VD_SQL_INT, 0, VD_RULE_VINTAGE, { NULL } },
    { "region", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "alcohol", VD_SQL_NUMERIC, 0, VD_RULE_NUMBER, { NULL } },
    { "volume_cl", VD_SQL_NUMERIC, 0, VD_RULE_VOLUME_CL, { "volume" } },
    { "pack_size", VD_SQL_NUMERIC, 0, VD_RULE_PACK_SIZE, { "pack_size", "volume" } },
    { "body", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "tannins", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "active", VD_SQL_BOOL, 0, VD_RULE_BOOL, { "active", "true" } },
    { "last_updated", VD_SQL_TIMESTAMPTZ, 0, VD_RULE_INSTANT, { NULL } },
    SYNCED_AT,
};

static const vd_column_t s_customers[] = {
    { "customer_key", VD_SQL_TEXT, VD_COL_KEY | VD_COL_REQUIRED, VD_RULE_KEY, { NULL } },
    COMMON_COLUMNS,
    { "person_key", VD_SQL_TEXT, VD_COL_INIT_KEY, VD_RULE_DERIVED, { NULL } },
    { "first_name", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "last_name", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "email", VD_SQL_TEXT, 0, VD_RULE_EMAIL, { NULL } },
    { "phone", VD_SQL_TEXT, 0, VD_RULE_PHONE, { NULL } },
    { "mobile", VD_SQL_TEXT, 0, VD_RULE_PHONE, { NULL } },
    { "address", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "zip_code", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "city", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "country", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "segment", VD_SQL_TEXT, 0, VD_RULE_DERIVED, { NULL }, "'prospect'" },
    { "email_opt_out", VD_SQL_BOOL, VD_COL_STICKY, VD_RULE_BOOL, { "email_opt_out", "false" } },
    { "sms_opt_out", VD_SQL_BOOL, VD_COL_STICKY, VD_RULE_BOOL, { "sms_opt_out", "false" } },
    { "email_invalid", VD_SQL_BOOL, VD_COL_STICKY, VD_RULE_EMAIL_INVALID, { "email", NULL, "email" } },
    { "first_purchase_date", VD_SQL_DATE, 0, VD_RULE_DERIVED, { NULL } },
    { "last_purchase_date", VD_SQL_DATE, 0, VD_RULE_DERIVED, { NULL } },
    { "total_spent", VD_SQL_NUMERIC, 0, VD_RULE_DERIVED, { NULL }, "0" },
    { "purchase_count", VD_SQL_INT, 0, VD_RULE_DERIVED, { NULL }, "0" },
    { "avg_order_value", VD_SQL_NUMERIC, 0, VD_RULE_DERIVED, { NULL } },
    { "last_updated", VD_SQL_TIMESTAMPTZ, 0, VD_RULE_INSTANT, { NULL } },
    { "external_ref", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "active", VD_SQL_BOOL, 0, VD_RULE_BOOL, { "active", "true" } },
    SYNCED_AT,
};

static const vd_column_t s_sales[] = {
    { "sale_line_key", VD_SQL_TEXT, VD_COL_KEY | VD_COL_REQUIRED, VD_RULE_KEY, { NULL } },
    COMMON_COLUMNS,
    { "customer_key", VD_SQL_TEXT, 0, VD_RULE_CUSTOMER_REF, { "customer_code" } },
    { "product_key", VD_SQL_TEXT, 0, VD_RULE_PRODUCT_REF, { "product_code" } },
    { "order_id", VD_SQL_TEXT, 0, VD_RULE_TEXT, { "document_no" } },
    { "document_type", VD_SQL_TEXT, 0, VD_RULE_LOWER, { NULL } },
    { "date_sale", VD_SQL_DATE, VD_COL_REQUIRED, VD_RULE_DATE, { NULL } },
    { "quantity_units", VD_SQL_NUMERIC, VD_COL_REQUIRED, VD_RULE_QUANTITY, { "quantity_units", "document_type" } },
    { "unit", VD_SQL_TEXT, 0, VD_RULE_LOWER, { "unit", "packaging" } },
    { "quantity_bottles_75cl_eq", VD_SQL_NUMERIC, 0, VD_RULE_BOTTLES, { "quantity_units", "unit", "packaging" } },
    { "price_unit", VD_SQL_NUMERIC, 0, VD_RULE_MONEY, { "price_unit", "price_unit_incl_vat" } },
    { "price_total", VD_SQL_NUMERIC, 0, VD_RULE_LINE_TOTAL, { "price_total", "price_total_incl_vat", "quantity_units", "=price_unit" } },
    { "cost_total", VD_SQL_NUMERIC, 0, VD_RULE_COST, { "cost_total", "=price_total", "margin" } },
    { "margin_percent", VD_SQL_NUMERIC, 0, VD_RULE_MARGIN_PERCENT, { "margin_percent", "=price_total", "margin" } },
    { "channel", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    SYNCED_AT,
};

static const vd_column_t s_stock[] = {
    { "stock_key", VD_SQL_TEXT, VD_COL_KEY | VD_COL_REQUIRED, VD_RULE_KEY, { NULL } },
    COMMON_COLUMNS,
    { "product_key", VD_SQL_TEXT, VD_COL_REQUIRED, VD_RULE_PRODUCT_REF, { "product_code" } },
    { "warehouse", VD_SQL_TEXT, VD_COL_REQUIRED, VD_RULE_TEXT, { NULL } },
    { "quantity_units", VD_SQL_NUMERIC, VD_COL_REQUIRED, VD_RULE_NUMBER, { NULL } },
    { "unit", VD_SQL_TEXT, 0, VD_RULE_LOWER, { "unit", "packaging" } },
    { "quantity_bottles_75cl_eq", VD_SQL_NUMERIC, 0, VD_RULE_BOTTLES, { "quantity_units", "unit", "packaging" } },
    { "reserved_qty", VD_SQL_NUMERIC, 0, VD_RULE_NUMBER, { NULL } },
    { "available_qty", VD_SQL_NUMERIC, 0, VD_RULE_AVAILABLE, { "available_qty", "quantity_units", "reserved_qty" } },
    { "last_count_date", VD_SQL_DATE, 0, VD_RULE_DATE, { NULL } },
    SYNCED_AT,
};

static const vd_column_t s_contacts[] = {
    { "contact_key", VD_SQL_TEXT, VD_COL_KEY | VD_COL_REQUIRED, VD_RULE_KEY, { NULL } },
    COMMON_COLUMNS,
    { "customer_key", VD_SQL_TEXT, 0, VD_RULE_CUSTOMER_REF, { "customer_code" } },
    { "email", VD_SQL_TEXT, 0, VD_RULE_EMAIL, { NULL } },
    { "date_contact", VD_SQL_TIMESTAMPTZ, VD_COL_REQUIRED, VD_RULE_INSTANT, { NULL } },
    { "channel", VD_SQL_TEXT, 0, VD_RULE_CHANNEL, { NULL } },
    { "campaign", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "subject", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "status", VD_SQL_TEXT, 0, VD_RULE_LOWER, { NULL } },
    { "product_key_suggested", VD_SQL_TEXT, 0, VD_RULE_PRODUCT_REF, { "product_code_suggested" } },
    { "response", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "response_details", VD_SQL_TEXT, 0, VD_RULE_TEXT, { NULL } },
    { "payload", VD_SQL_JSONB, VD_COL_NOCOMPARE, VD_RULE_JSON, { NULL } },
    SYNCED_AT,
};

#define COLUMNS(a) a, sizeof a / sizeof a[0]

static const vd_table_t s_tables[VD_TABLE_COUNT] = {
    [VD_TABLE_PRODUCTS] = { "product_catalog", "product_key", VD_KEY_PRODUCT_CODE,
                            { { "code", true } },
                            VD_TABLE_KEY_MAPPED | VD_TABLE_ODOO_WINS, COLUMNS (s_products) },
    [VD_TABLE_CUSTOMERS] = { "customers", "customer_key", VD_KEY_SOURCE_PREFIX,
                             { { "customer_code", false } }, VD_TABLE_CUSTOMER_AGG,
                             COLUMNS (s_customers) },
    [VD_TABLE_SALES] = { "sales_lines", "sale_line_key", VD_KEY_SOURCE_PREFIX,
                         { { "document_no", false }, { "line_no", false } },
                         VD_TABLE_CUSTOMER_AGG, COLUMNS (s_sales) },
    [VD_TABLE_STOCK] = { "stock_levels", "stock_key", VD_KEY_SOURCE_PREFIX,
                         { { "product_code", true }, { "warehouse", false } }, 0,
                         COLUMNS (s_stock) },
    [VD_TABLE_CONTACTS] = { "contact_history", "contact_key", VD_KEY_SOURCE_PREFIX,
                            { { "event_id", false } }, VD_TABLE_EVENTS, COLUMNS (s_contacts) },
};
// clang-format on

static const char *s_sources[] = {"isavigne", "odoo", "brevo", "powerautomate"};

const vd_table_t *
vd_schema_table (int id)
{
    return id >= 0 && id < VD_TABLE_COUNT ? &s_tables[id] : NULL;
}

int
vd_schema_table_id (const char *name)
{
    for (int i = 0; i < VD_TABLE_COUNT; i++)
        if (strcmp (s_tables[i].name, name) == 0)
            return i;
    return -1;
}

int
vd_schema_column (const vd_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp (t->columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool
vd_schema_carried (const vd_column_t *c)
{
    return c->rule != VD_RULE_DERIVED;
}

size_t
vd_schema_ncarried (const vd_table_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncolumns; i++)
        n += vd_schema_carried (&t->columns[i]);
    return n;
}

int
vd_schema_key_prefix (vd_buf_t *out, const char *source)
{
    return vd_buf_addstr (out, source) < 0 || vd_buf_addc (out, '-') < 0 ? -1 : 0;
}

int
vd_schema_key (vd_buf_t *out, const char *source, const char *id, size_t len)
{
    return vd_schema_key_prefix (out, source) < 0 || vd_buf_add (out, id, len) < 0 ? -1 : 0;
}

int
vd_schema_product_fallback_key (vd_buf_t *out, const char *source, const char *id, size_t len)
{
    int rc = 0;
    for (const char *p = source; *p; p++)
        rc |= vd_buf_addc (out, (char)toupper ((unsigned char)*p));
    return rc | vd_buf_addc (out, '-') | vd_buf_add (out, id, len) ? -1 : 0;
}

bool
vd_schema_compares_all (const vd_table_t *t)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (vd_schema_carried (&t->columns[i]) && (t->columns[i].flags & VD_COL_NOCOMPARE))
            return false;
    return true;
}

const char *
vd_schema_sql_type (vd_sql_type_t type)
{
    static const char *names[] = {
        [VD_SQL_TEXT] = "text",
        [VD_SQL_TEXT_ARRAY] = "text[]",
        [VD_SQL_INT] = "integer",
        [VD_SQL_NUMERIC] = "numeric",
        [VD_SQL_BOOL] = "boolean",
        [VD_SQL_DATE] = "date",
        [VD_SQL_TIMESTAMPTZ] = "timestamptz",
        [VD_SQL_JSONB] = "jsonb",
    };
    return names[type];
}

int
vd_schema_source_id (const char *source)
{
    for (int i = 0; i < 4; i++)
        if (strcmp (s_sources[i], source) == 0)
            return i;
    return -1;
}

bool
vd_schema_has_input (const vd_table_t *t, const char *name)
{
    if (strcmp (name, "source_id") == 0)
        return true;
    for (int i = 0; i < 3 && t->id_parts[i].name; i++)
        if (strcmp (t->id_parts[i].name, name) == 0)
            return true;
    for (size_t c = 0; c < t->ncolumns; c++) {
        const vd_column_t *col = &t->columns[c];
        if (col->rule == VD_RULE_DERIVED || col->rule == VD_RULE_SOURCE)
            continue;
        /* a BOOL's in[1] is a default value, not an input; "=column" is
           a computed value */
        int n = col->rule == VD_RULE_BOOL ? 1 : VD_COL_INPUTS;
        for (int i = 0; i < n; i++) {
            const char *in = col->in[i] ? col->in[i] : i == 0 ? col->name : NULL;
            if (in && in[0] != '=' && strcmp (in, name) == 0)
                return true;
        }
    }
    return false;
}

int
vd_schema_source_id_build (const vd_table_t *t, const char *const *parts, const size_t *lens,
                           vd_buf_t *out, int *bad)
{
    for (int i = 0; i < 3 && t->id_parts[i].name; i++) {
        size_t before = out->len;
        if (i && vd_buf_addc (out, '-') < 0)
            return -1;
        size_t start = out->len;
        int rc = !parts[i]                ? -1
                 : t->id_parts[i].as_code ? vd_text_product_code (parts[i], lens[i], out)
                                          : vd_text_clean (parts[i], lens[i], out);
        if (rc < 0 || out->len == start) {
            out->len = before;
            if (out->data)
                out->data[before] = '\0';
            *bad = i;
            return -1;
        }
    }
    return 0;
}

/*  Document types, folded (README Interpretations, "Document types"). */
static const char *const s_credit_words[] = {"avoir",  "avoirs",        "av",     "credit",
                                             "retour", "remboursement", "refund", NULL};
static const char *const s_invoice_words[] = {"facture", "factures", "invoice",   "fa", "ticket",
                                              "vente",   "bl",       "livraison", NULL};

static bool
s_has_word (const char *s, const char *word)
{
    size_t n = strlen (word);
    for (const char *p = strstr (s, word); p; p = strstr (p + 1, word))
        if ((p == s || !isalnum ((unsigned char)p[-1])) && !isalnum ((unsigned char)p[n]))
            return true;
    return false;
}

int
vd_schema_document_sign (const char *folded)
{
    if (!folded)
        return 0;
    for (int i = 0; s_credit_words[i]; i++)
        if (s_has_word (folded, s_credit_words[i]))
            return -1;
    for (int i = 0; s_invoice_words[i]; i++)
        if (s_has_word (folded, s_invoice_words[i]))
            return 1;
    return 0;
}

char *
vd_schema_credit_note_regex (void)
{
    vd_buf_t b;
    vd_buf_init (&b, 1024);
    vd_buf_addstr (&b, "(^|[^a-z0-9])(");
    for (int i = 0; s_credit_words[i]; i++)
        vd_buf_printf (&b, "%s%s", i ? "|" : "", s_credit_words[i]);
    if (vd_buf_addstr (&b, ")([^a-z0-9]|$)") < 0) {
        vd_buf_free (&b);
        return NULL;
    }
    return vd_buf_take (&b);
}

int
vd_schema_test (bool verbose)
{
    int failures = 0;
    for (int i = 0; i < VD_TABLE_COUNT; i++) {
        const vd_table_t *t = vd_schema_table (i);
        /* the key is the first column, carried, required; every table has
           source, source_id and synced_at; names are unique */
        if (strcmp (t->columns[0].name, t->key) != 0 || !(t->columns[0].flags & VD_COL_KEY) ||
            vd_schema_column (t, "source") < 0 || vd_schema_column (t, "source_id") < 0 ||
            vd_schema_column (t, "synced_at") < 0) {
            fprintf (stderr, "vd_schema: table %s is malformed\n", t->name);
            failures++;
        }
        for (size_t c = 0; c < t->ncolumns; c++)
            if (vd_schema_column (t, t->columns[c].name) != (int)c) {
                fprintf (stderr, "vd_schema: %s.%s twice\n", t->name, t->columns[c].name);
                failures++;
            }
        if (vd_schema_table_id (t->name) != i)
            failures++;
        if (verbose)
            printf ("  %s: %zu columns, %zu carried\n", t->name, t->ncolumns,
                    vd_schema_ncarried (t));
    }
    const vd_table_t *sales = vd_schema_table (VD_TABLE_SALES);
    if (!vd_schema_has_input (sales, "line_no") || !vd_schema_has_input (sales, "margin") ||
        !vd_schema_has_input (sales, "date_sale") || vd_schema_has_input (sales, "segment") ||
        vd_schema_has_input (vd_schema_table (VD_TABLE_PRODUCTS), "true"))
        failures++;
    if (vd_schema_document_sign ("facture") != 1 ||
        vd_schema_document_sign ("avoir client") != -1 || vd_schema_document_sign ("av") != -1 ||
        vd_schema_document_sign ("refund") != -1 || vd_schema_document_sign ("favoris") != 0 ||
        vd_schema_document_sign ("devis") != 0 || vd_schema_document_sign (NULL) != 0 ||
        vd_schema_has_input (sales, "=price_unit") || !vd_schema_has_input (sales, "packaging"))
        failures++;
    vd_buf_t id;
    vd_buf_init (&id, 256);
    const char *parts[] = {" F-01 ", "  2 "};
    size_t lens[] = {6, 4};
    int bad = -1;
    if (vd_schema_source_id_build (sales, parts, lens, &id, &bad) < 0 ||
        strcmp (vd_buf_str (&id), "F-01-2") != 0)
        failures++;
    vd_buf_reset (&id);
    const char *stock_parts[] = {"ries res 2022", NULL};
    if (vd_schema_source_id_build (vd_schema_table (VD_TABLE_STOCK), stock_parts, lens, &id,
                                   &bad) == 0 ||
        bad != 1)
        failures++;
    vd_buf_free (&id);
    char *regex = vd_schema_credit_note_regex ();
    if (!regex || !strstr (regex, "|refund)") || !strstr (regex, "(avoir|"))
        failures++;
    free (regex);
    if (vd_schema_table_id ("nope") != -1 || vd_schema_source_id ("odoo") != 1 ||
        vd_schema_source_id ("x") != -1)
        failures++;
    if (vd_schema_ncarried (vd_schema_table (VD_TABLE_CUSTOMERS)) !=
        vd_schema_table (VD_TABLE_CUSTOMERS)->ncolumns - 8)
        failures++;
    return failures ? -1 : 0;
}
