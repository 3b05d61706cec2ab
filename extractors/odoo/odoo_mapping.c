/*  odoo_mapping - Odoo models and fields to canonical tables and inputs. */
#include "odoo_mapping.h"

#define FILE_MAX (256 * 1024)

struct odoo_mapping {
    odoo_model_map_t models[ODOO_MAX_MODELS];
    size_t nmodels;
};

/*  SPEC.md "Sources", Odoo. Models in load order: products and customers
    before the stock and sales that refer to them. Odoo 18.1+ renamed
    sale.order.line's product_uom to product_uom_id; Odoo 19 has no
    res.partner.mobile: alternatives and "?" cover both. */
static const char s_default[] =
    "# vendange built-in Odoo mapping: input = Odoo field (first present wins), ? = optional\n"
    "[product.product]\n"
    "table = product_catalog\n"
    "domain = []\n"
    "source_id = id\n"
    "code = default_code\n"
    "name = name\n"
    "list_price = list_price\n"
    "cost_price = standard_price\n"
    "family = categ_id.name\n"
    "active = active\n"
    "last_updated = write_date\n"
    "# custom wine fields come from the connector's field_mapping, e.g.\n"
    "# grapes = x_grapes, vintage = x_vintage, colour = x_colour, region = x_region\n"
    "\n"
    "[res.partner]\n"
    "table = customers\n"
    "domain = [[\"customer_rank\", \">\", 0]]\n"
    "source_id = id\n"
    "external_ref = ref\n"
    "last_name = lastname | name\n"
    "first_name = firstname ?\n"
    "email = email\n"
    "phone = phone\n"
    "mobile = mobile ?\n"
    "address = street\n"
    "zip_code = zip\n"
    "city = city\n"
    "country = country_id.name\n"
    "active = active\n"
    "last_updated = write_date\n"
    "\n"
    "[stock.quant]\n"
    "table = stock_levels\n"
    "domain = [[\"location_id.usage\", \"=\", \"internal\"]]\n"
    "source_id = id\n"
    "product_code = product_id.default_code\n"
    "warehouse = warehouse_id.name | location_id.name\n"
    "quantity_units = quantity\n"
    "unit = product_uom_id.name\n"
    "reserved_qty = reserved_quantity\n"
    "available_qty = available_quantity ?\n"
    "last_count_date = last_count_date ?\n"
    "\n"
    "[sale.order.line]\n"
    "table = sales_lines\n"
    /* section titles and notes (display_type set, no product) are not sales */
    "domain = [[\"order_id.state\", \"in\", [\"sale\", \"done\"]], [\"display_type\", \"=\", "
    "false], "
    "[\"product_id\", \"!=\", false]]\n"
    "source_id = id\n"
    "document_no = order_id.name\n"
    "customer_code = order_partner_id.id\n"
    "product_code = product_id.default_code\n"
    "date_sale = order_id.date_order\n"
    "quantity_units = product_uom_qty\n"
    "unit = product_uom.name | product_uom_id.name\n"
    "price_unit = price_unit\n"
    "price_total = price_subtotal\n"
    "price_total_incl_vat = price_total\n"
    "margin = margin ?\n";

const char *
odoo_mapping_default_text (void)
{
    return s_default;
}

static void
s_field_free (odoo_field_map_t *f)
{
    free (f->input);
    for (size_t i = 0; i < f->nalts; i++)
        free (f->alts[i]);
    memset (f, 0, sizeof *f);
}

void
odoo_mapping_destroy (odoo_mapping_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odoo_mapping_t *self = *self_p;
    for (size_t m = 0; m < self->nmodels; m++) {
        free (self->models[m].model);
        free (self->models[m].domain);
        for (size_t f = 0; f < self->models[m].nfields; f++)
            s_field_free (&self->models[m].fields[f]);
    }
    free (self);
    *self_p = NULL;
}

static char *
s_trim (char *s)
{
    size_t begin, end;
    vd_text_trim (s, strlen (s), &begin, &end);
    s[end] = '\0';
    return s + begin;
}

static bool
s_name_ok (const char *s)
{
    size_t n = strlen (s);
    if (n == 0 || n >= ODOO_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!(isalnum ((unsigned char)*p) || *p == '_' || *p == '.'))
            return false;
    return true;
}

/*  "a | b.c ?" into f. Returns 0, -1 with err. */
static int
s_parse_fields (odoo_field_map_t *f, char *value, vd_error_t *err)
{
    size_t n = strlen (value);
    if (n && value[n - 1] == '?') {
        f->optional = true;
        value[n - 1] = '\0';
    }
    for (char *p = value; p;) {
        char *bar = strchr (p, '|');
        if (bar)
            *bar++ = '\0';
        char *name = s_trim (p);
        const char *dot = strchr (name, '.');
        if (!s_name_ok (name) || (dot && strchr (dot + 1, '.')) || f->nalts == ODOO_MAX_ALTS)
            return vd_error_set (err, VD_ERR_PERMANENT, "bad Odoo field \"%s\" for %s", name,
                                 f->input);
        f->alts[f->nalts++] = strdup (name);
        p = bar;
    }
    return f->nalts ? 0 : vd_error_set (err, VD_ERR_PERMANENT, "no field for %s", f->input);
}

static int
s_parse_entry (odoo_model_map_t *m, const char *key, char *value, vd_error_t *err)
{
    if (strcmp (key, "table") == 0) {
        m->table = vd_schema_table_id (value);
        return m->table < 0 || m->table == VD_TABLE_CONTACTS
                   ? vd_error_set (err, VD_ERR_PERMANENT, "unknown table \"%s\"", value)
                   : 0;
    }
    if (strcmp (key, "domain") == 0) {
        json_error_t jerr;
        json_t *d = json_loads (value, 0, &jerr);
        bool ok = json_is_array (d);
        json_decref (d);
        if (!ok)
            return vd_error_set (err, VD_ERR_PERMANENT, "domain is not a JSON array");
        free (m->domain);
        m->domain = strdup (value);
        return 0;
    }
    if (m->table < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "section [%s] needs \"table =\" first",
                             m->model);
    if (!vd_schema_has_input (vd_schema_table (m->table), key))
        return vd_error_set (err, VD_ERR_PERMANENT, "unknown input \"%s\" for table %s", key,
                             vd_schema_table (m->table)->name);
    size_t i = 0;
    while (i < m->nfields && strcmp (m->fields[i].input, key) != 0)
        i++;
    if (i == ODOO_MAX_FIELDS)
        return vd_error_set (err, VD_ERR_PERMANENT, "too many fields for %s", m->model);
    if (i < m->nfields)
        s_field_free (&m->fields[i]); /* the file overrides the built-in entry */
    else
        m->nfields++;
    m->fields[i].input = strdup (key);
    return s_parse_fields (&m->fields[i], value, err);
}

static odoo_model_map_t *
s_section (odoo_mapping_t *self, const char *model, vd_error_t *err)
{
    for (size_t i = 0; i < self->nmodels; i++)
        if (strcmp (self->models[i].model, model) == 0)
            return &self->models[i];
    if (!s_name_ok (model) || self->nmodels == ODOO_MAX_MODELS) {
        vd_error_set (err, VD_ERR_PERMANENT, "bad model section [%s]", model);
        return NULL;
    }
    odoo_model_map_t *m = &self->models[self->nmodels++];
    m->model = strdup (model);
    m->table = -1;
    m->domain = strdup ("[]");
    return m;
}

static int
s_parse (odoo_mapping_t *self, const char *text, size_t len, vd_error_t *err)
{
    char *copy = strndup (text, len);
    if (!copy)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    odoo_model_map_t *m = NULL;
    long lineno = 0;
    int rc = 0;
    for (char *line = copy, *next; rc == 0 && line; line = next) {
        next = strchr (line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr (line, '#');
        if (hash)
            *hash = '\0';
        char *s = s_trim (line), *end, *eq;
        if (!*s)
            continue;
        if (*s == '[' && (end = strchr (s, ']')) != NULL && end[1] == '\0') {
            *end = '\0';
            m = s_section (self, s_trim (s + 1), err);
            rc = m ? 0 : -1;
        } else if ((eq = strchr (s, '=')) == NULL || !m)
            rc = vd_error_set (err, VD_ERR_PERMANENT,
                               m ? "expected \"input = field | field\""
                                 : "entry before any "
                                   "[model] section");
        else {
            *eq = '\0';
            rc = s_parse_entry (m, s_trim (s), s_trim (eq + 1), err);
        }
    }
    free (copy);
    for (size_t i = 0; rc == 0 && i < self->nmodels; i++)
        if (self->models[i].table < 0) {
            lineno = 0;
            rc = vd_error_set (err, VD_ERR_PERMANENT, "section [%s] has no \"table =\"",
                               self->models[i].model);
        }
    if (rc < 0 && err)
        err->line = lineno;
    return rc;
}

odoo_mapping_t *
odoo_mapping_new (const char *text, size_t len, vd_error_t *err)
{
    odoo_mapping_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (s_parse (self, s_default, sizeof s_default - 1, err) < 0 ||
        (text && s_parse (self, text, len, err) < 0))
        odoo_mapping_destroy (&self);
    return self;
}

odoo_mapping_t *
odoo_mapping_load (const char *path, vd_error_t *err)
{
    FILE *f = fopen (path, "rb");
    char *text = f ? malloc (FILE_MAX + 1) : NULL;
    size_t n = text ? fread (text, 1, FILE_MAX + 1, f) : 0;
    if (f)
        fclose (f);
    odoo_mapping_t *self = NULL;
    if (!text || n > FILE_MAX)
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read field mapping file: %s",
                      text ? "larger than 256 KiB" : strerror (errno));
    else
        self = odoo_mapping_new (text, n, err);
    free (text);
    if (!self && err)
        snprintf (err->file, sizeof err->file, "%s", path);
    return self;
}

size_t
odoo_mapping_size (const odoo_mapping_t *self)
{
    return self->nmodels;
}

odoo_model_map_t *
odoo_mapping_at (odoo_mapping_t *self, size_t i)
{
    return i < self->nmodels ? &self->models[i] : NULL;
}

static const char *
s_type (json_t *fields, const char *name, const char **relation)
{
    json_t *def = json_object_get (fields, name);
    if (relation)
        *relation = json_string_value (json_object_get (def, "relation"));
    const char *type = json_string_value (json_object_get (def, "type"));
    return def ? (type ? type : "char") : NULL;
}

/*  Tries one alternative. Returns 1 when the server has it, 0 when not,
    -1 with err when fields_get failed. */
static int
s_try (odoo_field_map_t *f, const char *alt, json_t *fields, odoo_fields_fn *fields_of, void *arg,
       vd_error_t *err)
{
    char base[ODOO_NAME_MAX];
    snprintf (base, sizeof base, "%s", alt);
    char *dot = strchr (base, '.');
    if (dot)
        *dot++ = '\0';
    const char *relation = NULL;
    const char *type = s_type (fields, base, &relation);
    if (!type)
        return 0;
    snprintf (f->field, sizeof f->field, "%s", base);
    snprintf (f->part, sizeof f->part, "%s", dot ? dot : "");
    snprintf (f->relation, sizeof f->relation, "%s", relation ? relation : "");
    snprintf (f->type, sizeof f->type, "%s", type);
    if (!dot || strcmp (dot, "id") == 0 || strcmp (dot, "name") == 0)
        return 1;
    if (!relation)
        return 0; /* a part of a field that is not a relation */
    json_t *related = fields_of (arg, relation, err);
    if (!related)
        return -1;
    type = s_type (related, dot, NULL);
    if (type)
        snprintf (f->type, sizeof f->type, "%s", type);
    return type ? 1 : 0;
}

int
odoo_mapping_resolve (odoo_model_map_t *m, odoo_fields_fn *fields_of, void *arg,
                      const char *version, vd_error_t *err)
{
    json_t *fields = fields_of (arg, m->model, err);
    if (!fields)
        return -1;
    for (size_t i = 0; i < m->nfields; i++) {
        odoo_field_map_t *f = &m->fields[i];
        f->present = false;
        if (strcmp (f->alts[0], "id") == 0 && f->nalts == 1) {
            snprintf (f->field, sizeof f->field, "id");
            snprintf (f->type, sizeof f->type, "integer");
            f->part[0] = f->relation[0] = '\0';
            f->present = true;
            continue;
        }
        for (size_t a = 0; a < f->nalts && !f->present; a++) {
            int rc = s_try (f, f->alts[a], fields, fields_of, arg, err);
            if (rc < 0)
                return -1;
            f->present = rc == 1;
        }
        if (!f->present && !f->optional) {
            vd_error_set (err, VD_ERR_PERMANENT, "%s has no field %s on this server (Odoo %s)",
                          m->model, f->alts[0], version);
            vd_error_detail (err, "mapped to the %s input of %s%s", f->input,
                             vd_schema_table (m->table)->name,
                             f->nalts > 1 ? ", and no alternative is there either" : "");
            snprintf (err->hint, sizeof err->hint,
                      "fix the connector's field_mapping, or mark the field optional with \"?\"");
            return -1;
        }
    }
    return 0;
}

json_t *
odoo_mapping_read_fields (const odoo_model_map_t *m)
{
    json_t *list = json_pack ("[s, s]", "id", "write_date");
    for (size_t i = 0; i < m->nfields; i++) {
        const odoo_field_map_t *f = &m->fields[i];
        bool seen = false;
        size_t k;
        json_t *v;
        json_array_foreach (list, k, v) seen |= strcmp (json_string_value (v), f->field) == 0;
        if (f->present && !seen)
            json_array_append_new (list, json_string (f->field));
    }
    return list;
}

/* ---- self test ---------------------------------------------------------- */

/*  fields_get answers of a fake Odoo 19 server: no res.partner.mobile,
    sale.order.line.product_uom_id. */
static json_t *
s_test_fields (void *arg, const char *model, vd_error_t *err)
{
    json_t *servers = arg;
    json_t *f = json_object_get (servers, model);
    if (!f)
        vd_error_set (err, VD_ERR_PERMANENT, "no model %s", model);
    return f;
}

int
odoo_mapping_test (bool verbose)
{
    int failures = 0;
    vd_error_t err;
    odoo_mapping_t *m = odoo_mapping_new (NULL, 0, &err);
    failures += !m || odoo_mapping_size (m) != 4;
    failures += m && odoo_mapping_at (m, 3)->table != VD_TABLE_SALES;
    odoo_mapping_destroy (&m);
    const char *custom = "[product.product]\n"
                         "grapes = x_grapes\n"
                         "vintage = x_vintage | x_millesime\n"
                         "colour = x_colour ?\n"
                         "name = display_name   # overrides the built-in\n";
    m = odoo_mapping_new (custom, strlen (custom), &err);
    odoo_model_map_t *p = m ? odoo_mapping_at (m, 0) : NULL;
    json_t *fields = json_pack (
        "{s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}, "
        "s:{s:s}, s:{s:s}, s:{s:s}}, s:{s:{s:s}}}",
        "product.product", "default_code", "type", "char", "display_name", "type", "char",
        "list_price", "type", "float", "standard_price", "type", "float", "active", "type",
        "boolean", "write_date", "type", "datetime", "categ_id", "type", "many2one", "relation",
        "product.category", "x_grapes", "type", "many2many", "x_millesime", "type", "integer", "id",
        "type", "integer", "name", "type", "char", "product.category", "name", "type", "char");
    if (!p || odoo_mapping_resolve (p, s_test_fields, fields, "19.0", &err) != 0) {
        fprintf (stderr, "  odoo_mapping: %s\n", err.msg);
        failures++;
    } else {
        json_t *read = odoo_mapping_read_fields (p);
        char *text = json_dumps (read, JSON_COMPACT);
        if (verbose)
            printf ("  product.product reads %s\n", text);
        failures += !strstr (text, "\"x_millesime\"") || strstr (text, "x_colour") ||
                    !strstr (text, "\"display_name\"") || strstr (text, "\"name\"");
        free (text);
        json_decref (read);
    }
    /* a mapped field the server lacks: model, field and version named */
    const char *missing = "[product.product]\nregion = x_region\n";
    odoo_mapping_destroy (&m);
    m = odoo_mapping_new (missing, strlen (missing), &err);
    p = m ? odoo_mapping_at (m, 0) : NULL;
    failures += !p || odoo_mapping_resolve (p, s_test_fields, fields, "19.0", &err) == 0 ||
                !strstr (err.msg, "product.product has no field x_region") ||
                !strstr (err.msg, "Odoo 19.0");
    odoo_mapping_destroy (&m);
    json_decref (fields);
    /* bad files: line named */
    const char *bad[] = {"grapes = x_grapes\n",
                         "[product.product]\nnope = x_nope\n",
                         "[product.product]\ngrapes = x grapes\n",
                         "[x.model]\ngrapes = x_grapes\n",
                         "[x.model]\ntable = nowhere\n",
                         "[product.product]\ndomain = {\"a\": 1}\n",
                         "[product.product]\ngrapes = a | b | c | d | e\n",
                         "[product.product]\ngrapes\n",
                         "[bad model!]\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vd_error_clear (&err);
        m = odoo_mapping_new (bad[i], strlen (bad[i]), &err);
        failures += m != NULL || err.msg[0] == '\0';
        if (verbose)
            printf ("  bad mapping %zu: line %ld: %s\n", i, err.line, err.msg);
        odoo_mapping_destroy (&m);
    }
    return failures ? -1 : 0;
}
