/*  isv_mapping - export files and columns to canonical tables and inputs. */
#include "isv_mapping.h"
#include <fnmatch.h>

#define MAX_TABLES 8

struct isv_mapping {
    isv_table_map_t tables[MAX_TABLES];
    size_t ntables;
};

/*  Both known dialects (SPEC.md "Sources"), tables in processing order:
    products and customers before the sales and stock that refer to them. */
static const char s_default[] =
    "# vendange built-in iSaVigne mapping: input = source columns (first present wins)\n"
    "[product_catalog]\n"
    "files = *produit*\n"
    "code = article | produit_key | code_article\n"
    "name = produit | nom | designation | libelle\n"
    "vintage = millesime\n"
    "colour = couleur | famille_crm\n"
    "family = sous_famille\n"
    "macro_category = macro_categorie\n"
    "list_price_incl_vat = prix_ttc | prix\n"
    "list_price = prix_ht\n"
    "cost_price = cout | cout_revient\n"
    "grapes = cepages | cepage\n"
    "flavors = aromes | arome\n"
    "region = region | appellation\n"
    "volume = contenance\n"
    "pack_size = colisage\n"
    "alcohol = degre | alcool\n"
    "active = actif\n"
    "\n"
    "[customers]\n"
    "files = *client*\n"
    "customer_code = client_code | code_client\n"
    "last_name = nom\n"
    "first_name = prenom\n"
    "email = email | mail | e_mail\n"
    "phone = telephone | tel\n"
    "mobile = mobile | portable\n"
    "address = adresse\n"
    "zip_code = code_postal | cp\n"
    "city = ville\n"
    "country = pays\n"
    "email_opt_out = optout_email | desabonne\n"
    "\n"
    "[stock_levels]\n"
    "files = *stock*\n"
    "product_code = article | produit_key\n"
    "warehouse = entrepot | depot\n"
    "quantity_units = quantite | qty\n"
    "unit = unite\n"
    "reserved_qty = reserve | quantite_reservee\n"
    "available_qty = disponible | quantite_disponible\n"
    "last_count_date = date_inventaire\n"
    "\n"
    "[sales_lines]\n"
    "files = *vente*\n"
    "customer_code = client_code | code_client\n"
    "date_sale = date_livraison | date\n"
    "document_type = document_type | type_document\n"
    "document_no = document_no | num_document\n"
    "line_no = order_detail_no | num_ligne\n"
    "product_code = article | produit_key\n"
    "quantity_units = qty_line | quantite\n"
    "unit = unite\n"
    "price_unit = pu_ht | prix_unitaire\n"
    "price_total = mt_ht\n"
    "price_total_incl_vat = mt_ttc\n"
    "margin = marge\n"
    "channel = canal\n";

const char *
isv_mapping_default_text (void)
{
    return s_default;
}

static char *
s_column_name (const char *s, size_t len)
{
    vd_buf_t b;
    vd_buf_init (&b, 256);
    if (vd_text_column_name (s, len, &b) < 0) {
        vd_buf_free (&b);
        return NULL;
    }
    return vd_buf_take (&b);
}

static void
s_table_free (isv_table_map_t *t)
{
    for (size_t i = 0; i < t->npatterns; i++)
        free (t->patterns[i]);
    for (size_t f = 0; f < t->nfields; f++) {
        free (t->fields[f].input);
        for (size_t i = 0; i < t->fields[f].ncolumns; i++)
            free (t->fields[f].columns[i]);
    }
    free (t->fields);
}

void
isv_mapping_destroy (isv_mapping_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < (*self_p)->ntables; i++)
        s_table_free (&(*self_p)->tables[i]);
    free (*self_p);
    *self_p = NULL;
}

/*  Splits "a | b | c" into up to ISV_MAX_ALIASES trimmed items; column
    names are normalised unless raw (file patterns). Returns the count,
    -1 on a bad item. */
static int
s_split (const char *value, bool raw, char **items)
{
    int n = 0;
    const char *p = value;
    while (*p) {
        size_t len = strcspn (p, "|");
        const char *s = p;
        size_t k = len;
        while (k && isspace ((unsigned char)*s))
            s++, k--;
        while (k && isspace ((unsigned char)s[k - 1]))
            k--;
        if (k == 0 || n == ISV_MAX_ALIASES)
            return -1;
        items[n] = raw ? strndup (s, k) : s_column_name (s, k);
        if (!items[n])
            return -1;
        for (char *c = raw ? items[n] : NULL; c && *c; c++)
            *c = (char)tolower ((unsigned char)*c);
        n++;
        p += len + (p[len] == '|');
    }
    return n;
}

/*  One "key = value" line of section t. Returns 0, -1 with err. */
static int
s_parse_entry (isv_table_map_t *t, char *key, char *value, vd_error_t *err)
{
    const vd_table_t *table = vd_schema_table (t->table);
    if (strcmp (key, "files") == 0) {
        int n = s_split (value, true, t->patterns + t->npatterns);
        if (n <= 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "bad file pattern list");
        t->npatterns += (size_t)n;
        return 0;
    }
    if (!vd_schema_has_input (table, key))
        return vd_error_set (err, VD_ERR_PERMANENT, "unknown input \"%s\" for table %s", key,
                             table->name);
    isv_field_map_t *fields = realloc (t->fields, (t->nfields + 1) * sizeof *fields);
    if (!fields)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    t->fields = fields;
    isv_field_map_t *f = &t->fields[t->nfields++];
    memset (f, 0, sizeof *f);
    f->input = strdup (key);
    int n = s_split (value, false, f->columns);
    if (n <= 0 || !f->input)
        return vd_error_set (err, VD_ERR_PERMANENT, "bad column list for \"%s\"", key);
    f->ncolumns = (size_t)n;
    return 0;
}

static char *
s_trim (char *s)
{
    while (isspace ((unsigned char)*s))
        s++;
    size_t n = strlen (s);
    while (n && isspace ((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/*  One line: section header, entry, comment or blank. */
static int
s_parse_line (isv_mapping_t *self, char *line, vd_error_t *err)
{
    char *hash = strchr (line, '#');
    if (hash)
        *hash = '\0';
    char *s = s_trim (line);
    if (!*s)
        return 0;
    if (*s == '[') {
        char *end = strchr (s, ']');
        if (!end || end[1] != '\0')
            return vd_error_set (err, VD_ERR_PERMANENT, "bad section header");
        *end = '\0';
        int id = vd_schema_table_id (s_trim (s + 1));
        if (id < 0 || self->ntables == MAX_TABLES)
            return vd_error_set (err, VD_ERR_PERMANENT, "unknown table \"%s\"", s + 1);
        self->tables[self->ntables++].table = id;
        return 0;
    }
    char *eq = strchr (s, '=');
    if (!eq)
        return vd_error_set (err, VD_ERR_PERMANENT, "expected \"input = column | column\"");
    if (self->ntables == 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "entry before any [table] section");
    *eq = '\0';
    return s_parse_entry (&self->tables[self->ntables - 1], s_trim (s), s_trim (eq + 1), err);
}

isv_mapping_t *
isv_mapping_parse (const char *text, size_t len, vd_error_t *err)
{
    isv_mapping_t *self = calloc (1, sizeof *self);
    char *copy = strndup (text, len);
    if (!self || !copy) {
        free (self);
        free (copy);
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    long lineno = 0;
    char *save = NULL;
    int rc = 0;
    for (char *line = copy; rc == 0 && line; line = save) {
        save = strchr (line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        rc = s_parse_line (self, line, err);
    }
    free (copy);
    for (size_t i = 0; rc == 0 && i < self->ntables; i++)
        if (self->tables[i].npatterns == 0) {
            lineno = 0;
            rc = vd_error_set (err, VD_ERR_PERMANENT, "table %s has no \"files =\" patterns",
                               vd_schema_table (self->tables[i].table)->name);
        }
    if (rc < 0) {
        if (err)
            err->line = lineno;
        isv_mapping_destroy (&self);
    }
    return self;
}

isv_mapping_t *
isv_mapping_default (vd_error_t *err)
{
    return isv_mapping_parse (s_default, sizeof s_default - 1, err);
}

isv_mapping_t *
isv_mapping_load (const char *path, vd_error_t *err)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read mapping file: %s", strerror (errno));
        vd_error_at (err, path, 0);
        return NULL;
    }
    char text[256 * 1024];
    size_t len = fread (text, 1, sizeof text, f);
    bool too_big = !feof (f);
    fclose (f);
    if (too_big) {
        vd_error_set (err, VD_ERR_PERMANENT, "mapping file larger than 256 KiB");
        vd_error_at (err, path, 0);
        return NULL;
    }
    isv_mapping_t *self = isv_mapping_parse (text, len, err);
    if (!self && err)
        snprintf (err->file, sizeof err->file, "%s", path);
    return self;
}

size_t
isv_mapping_size (const isv_mapping_t *self)
{
    return self->ntables;
}

const isv_table_map_t *
isv_mapping_at (const isv_mapping_t *self, size_t i)
{
    return i < self->ntables ? &self->tables[i] : NULL;
}

const isv_table_map_t *
isv_mapping_match (const isv_mapping_t *self, const char *filename)
{
    for (size_t i = 0; i < self->ntables; i++)
        for (size_t p = 0; p < self->tables[i].npatterns; p++)
            if (fnmatch (self->tables[i].patterns[p], filename, FNM_CASEFOLD) == 0)
                return &self->tables[i];
    return NULL;
}

size_t
isv_mapping_header (const isv_table_map_t *table, const char *const *header, size_t ncells,
                    const char **cols)
{
    size_t matched = 0;
    for (size_t i = 0; i < ncells; i++)
        cols[i] = NULL;
    /* each input takes the first of its columns present in the header */
    for (size_t f = 0; f < table->nfields; f++) {
        const isv_field_map_t *field = &table->fields[f];
        for (size_t a = 0; a < field->ncolumns; a++) {
            size_t i = 0;
            while (i < ncells && (cols[i] || strcmp (header[i], field->columns[a]) != 0))
                i++;
            if (i < ncells) {
                cols[i] = field->input;
                matched++;
                break;
            }
        }
    }
    return matched;
}

int
isv_mapping_test (bool verbose)
{
    int failures = 0;
    vd_error_t err;
    isv_mapping_t *m = isv_mapping_default (&err);
    if (!m) {
        fprintf (stderr, "isv_mapping: default mapping: %s (line %ld)\n", err.msg, err.line);
        return -1;
    }
    const isv_table_map_t *t = isv_mapping_match (m, "Export_VENTES_2024.csv");
    if (!t || t->table != VD_TABLE_SALES || isv_mapping_match (m, "notes.txt"))
        failures++;
    /* dialect B header */
    const char *header[] = {"code_client", "date",        "num_ligne", "produit_key",
                            "quantite",    "document_no", "inconnue"};
    const char *cols[7];
    size_t n = t ? isv_mapping_header (t, header, 7, cols) : 0;
    if (n != 6 || !cols[0] || strcmp (cols[0], "customer_code") != 0 || !cols[2] ||
        strcmp (cols[2], "line_no") != 0 || cols[6])
        failures++;
    isv_mapping_destroy (&m);
    /* bad input */
    const char *bad[] = {"[nope]\nfiles=*x*\n", "code = article\n",
                         "[customers]\nfiles = *c*\nsegment = x\n", "[customers]\n",
                         "[customers]\nfiles = *c*\njunk\n"};
    long lines[] = {1, 1, 3, 0, 3};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vd_error_clear (&err);
        m = isv_mapping_parse (bad[i], strlen (bad[i]), &err);
        if (m || err.line != lines[i]) {
            fprintf (stderr, "isv_mapping: bad mapping %zu accepted or wrong line %ld\n", i,
                     err.line);
            failures++;
        }
        if (verbose)
            printf ("  bad mapping %zu: %s (line %ld)\n", i, err.msg, err.line);
        isv_mapping_destroy (&m);
    }
    return failures ? -1 : 0;
}
