/*  norm_rules - one function per vd_rule_t. */
#include "norm_rules.h"

void
norm_value_init (norm_value_t *v)
{
    v->kind = NORM_NULL;
    v->boolean = false;
    v->nitems = 0;
    vd_buf_init (&v->str, NORM_MAX_FIELD);
}

void
norm_value_free (norm_value_t *v)
{
    vd_buf_free (&v->str);
}

void
norm_value_set_null (norm_value_t *v)
{
    v->kind = NORM_NULL;
    vd_buf_reset (&v->str);
}

int
norm_value_set_str (norm_value_t *v, const char *s, size_t len)
{
    vd_buf_reset (&v->str);
    v->kind = NORM_STR;
    return vd_buf_add (&v->str, s, len);
}

static void
s_set_bool (norm_value_t *v, bool b)
{
    vd_buf_reset (&v->str);
    v->kind = NORM_BOOL;
    v->boolean = b;
}

/*  Input i without surrounding white space; NULL when absent or blank. */
static const char *
s_input (const norm_input_t *ctx, int i, size_t *len)
{
    const char *s = ctx->in[i];
    if (!s)
        return NULL;
    size_t n = ctx->in_len[i];
    while (n && (unsigned char)*s <= ' ') {
        s++;
        n--;
    }
    while (n && (unsigned char)s[n - 1] <= ' ')
        n--;
    *len = n;
    return n ? s : NULL;
}

/*  Parses input i as a decimal. 1: value, 0: absent, -1: not a number. */
static int
s_decimal (const norm_input_t *ctx, int i, vd_dec_t *out)
{
    size_t len;
    const char *s = s_input (ctx, i, &len);
    if (!s)
        return 0;
    norm_decs_t *c = ctx->decs;
    for (int k = 0; c && k < c->n; k++)
        if (c->text[k] == s && c->len[k] == len) {
            *out = c->value[k];
            return c->rc[k];
        }
    vd_buf_reset (ctx->scratch);
    int rc = vd_number_parse (s, len, ctx->scratch) < 0 ||
                     vd_dec_parse (ctx->scratch->data, ctx->scratch->len, out) < 0
                 ? -1
                 : 1;
    if (c && c->n < NORM_DEC_CACHE) {
        c->text[c->n] = s;
        c->len[c->n] = len;
        c->rc[c->n] = rc;
        c->value[c->n++] = rc > 0 ? *out : (vd_dec_t){0};
    }
    return rc;
}

static int
s_set_dec (norm_value_t *v, vd_dec_t d)
{
    char text[48];
    if (vd_dec_format (d, text, sizeof text) < 0)
        return -1;
    return norm_value_set_str (v, text, strlen (text));
}

static norm_result_t
s_bad (const char **reason, const char *why, int *bad_input, int which)
{
    *reason = why;
    *bad_input = which;
    return NORM_BAD;
}

static norm_result_t
s_rule_text (const norm_input_t *ctx, norm_value_t *out, bool fold)
{
    size_t len = 0;
    const char *s = NULL;
    for (int i = 0; i < VD_COL_INPUTS && !s; i++)
        s = s_input (ctx, i, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    out->kind = NORM_STR;
    int rc = fold ? vd_text_fold (s, len, &out->str) : vd_text_clean (s, len, &out->str);
    if (rc < 0)
        norm_value_set_null (out);
    return NORM_OK;
}

static norm_result_t
s_rule_email (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    bool valid = false;
    out->kind = NORM_STR;
    if (vd_text_email (s, len, &out->str, &valid) < 0)
        norm_value_set_null (out);
    /* kept as written (lower-cased) and flagged by email_invalid */
    return valid ? NORM_OK : s_bad (reason, "invalid email address", bad, 0);
}

static norm_result_t
s_rule_email_invalid (const norm_input_t *ctx, norm_value_t *out)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    bool valid = true;
    if (s) {
        vd_buf_reset (ctx->scratch);
        vd_text_email (s, len, ctx->scratch, &valid);
    }
    s_set_bool (out, !valid);
    return NORM_OK;
}

static norm_result_t
s_rule_phone (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    out->kind = NORM_STR;
    if (vd_text_phone (s, len, &out->str) < 0) {
        norm_value_set_null (out);
        return s_bad (reason, "invalid phone number", bad, 0);
    }
    return NORM_OK;
}

/*  Scale of a derived money value: the input's, at least 2. */
static int
s_money_scale (vd_dec_t d)
{
    return d.scale > 2 ? d.scale : 2;
}

static norm_result_t
s_rule_money (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t d;
    norm_value_set_null (out);
    int rc = s_decimal (ctx, 0, &d);
    if (rc < 0)
        return s_bad (reason, "not a number", bad, 0);
    if (rc > 0)
        return s_set_dec (out, d) < 0 ? s_bad (reason, "number out of range", bad, 0) : NORM_OK;
    rc = ctx->in[1] ? s_decimal (ctx, 1, &d) : 0;
    if (rc < 0)
        return s_bad (reason, "not a number", bad, 1);
    if (rc == 0)
        return NORM_OK;
    vd_dec_t excl;
    if (vd_dec_div (d, ctx->vat_factor, s_money_scale (d), &excl) < 0 || s_set_dec (out, excl) < 0)
        return s_bad (reason, "number out of range", bad, 1);
    return NORM_OK;
}

static norm_result_t
s_rule_number (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t d;
    norm_value_set_null (out);
    int rc = s_decimal (ctx, 0, &d);
    if (rc < 0)
        return s_bad (reason, "not a number", bad, 0);
    if (rc > 0 && s_set_dec (out, d) < 0)
        return s_bad (reason, "number out of range", bad, 0);
    return NORM_OK;
}

static norm_result_t
s_rule_int (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t d;
    norm_value_set_null (out);
    int rc = s_decimal (ctx, 0, &d);
    if (rc == 0)
        return NORM_OK;
    if (rc < 0 || d.scale != 0 || d.v > INT32_MAX || d.v < INT32_MIN)
        return s_bad (reason, "not an integer", bad, 0);
    return s_set_dec (out, d) < 0 ? s_bad (reason, "not an integer", bad, 0) : NORM_OK;
}

static const char *s_folded (const norm_input_t *ctx, int i);

static norm_result_t
s_rule_vintage (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    /* non-vintage wines (crémants): no year, and nothing wrong with that */
    static const char *const non_vintage[] = {"nv",
                                              "n.v.",
                                              "n v",
                                              "non vintage",
                                              "non millesime",
                                              "sans millesime",
                                              "sans annee",
                                              "sa",
                                              "0" /* Odoo's empty integer */,
                                              NULL};
    const char *folded = s_folded (ctx, 0);
    for (int i = 0; folded && non_vintage[i]; i++)
        if (strcmp (folded, non_vintage[i]) == 0)
            return NORM_OK;
    /* the one run of exactly four digits, 1900..2100 ("2019", "Millésime 2019") */
    int found = -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit ((unsigned char)s[i]) || (i && isdigit ((unsigned char)s[i - 1])))
            continue;
        size_t n = 0;
        while (i + n < len && isdigit ((unsigned char)s[i + n]))
            n++;
        if (n != 4 || found >= 0)
            return s_bad (reason, "unreadable vintage", bad, 0);
        found =
            (s[i] - '0') * 1000 + (s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 + s[i + 3] - '0';
    }
    if (found < 1900 || found > 2100)
        return s_bad (reason, "unreadable vintage", bad, 0);
    char text[8];
    snprintf (text, sizeof text, "%d", found);
    return norm_value_set_str (out, text, strlen (text)) < 0 ? NORM_BAD : NORM_OK;
}

static norm_result_t
s_rule_date (const norm_input_t *ctx, norm_value_t *out, bool instant, const char **reason,
             int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    vd_date_t d;
    char text[80];
    if (vd_date_parse (s, len, &d) < 0)
        return s_bad (reason, "invalid date", bad, 0);
    int rc = instant ? vd_date_format_instant (&d, ctx->tz, text, sizeof text)
                     : vd_date_format_date (&d, text, sizeof text);
    if (rc < 0)
        return s_bad (reason, "invalid date", bad, 0);
    return norm_value_set_str (out, text, strlen (text)) < 0 ? NORM_BAD : NORM_OK;
}

/*  Folded input i into scratch; NULL when absent. */
static const char *
s_folded (const norm_input_t *ctx, int i)
{
    size_t len;
    const char *s = s_input (ctx, i, &len);
    if (!s)
        return NULL;
    vd_buf_reset (ctx->scratch);
    if (vd_text_fold (s, len, ctx->scratch) < 0)
        return NULL;
    return vd_buf_str (ctx->scratch);
}

/*  Index of the first word of words[] found in s as a whole word, -1. */
static int
s_find_word (const char *s, const char *const *words)
{
    for (int w = 0; words[w]; w++) {
        size_t n = strlen (words[w]);
        for (const char *p = strstr (s, words[w]); p; p = strstr (p + 1, words[w])) {
            bool start = p == s || !isalnum ((unsigned char)p[-1]);
            bool end = !isalnum ((unsigned char)p[n]);
            if (start && end)
                return w;
        }
    }
    return -1;
}

static norm_result_t
s_rule_bool (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    static const char *const yes[] = {"oui", "yes", "true", "vrai", "1", "x", "o", "y", "t", NULL};
    static const char *const no[] = {"non", "no", "false", "faux", "0", "n", "f", NULL};
    const char *s = s_folded (ctx, 0);
    if (!s) {
        norm_value_set_null (out);
        if (ctx->in[1]) /* the default, a constant of the schema */
            s_set_bool (out, strcmp (ctx->in[1], "true") == 0);
        return NORM_OK;
    }
    for (int i = 0; yes[i]; i++)
        if (strcmp (s, yes[i]) == 0) {
            s_set_bool (out, true);
            return NORM_OK;
        }
    for (int i = 0; no[i]; i++)
        if (strcmp (s, no[i]) == 0) {
            s_set_bool (out, false);
            return NORM_OK;
        }
    norm_value_set_null (out);
    return s_bad (reason, "not a yes/no value", bad, 0);
}

static norm_result_t
s_rule_list (const norm_input_t *ctx, norm_value_t *out)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    out->kind = NORM_LIST;
    out->nitems = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        bool sep = i == len || strchr (",;/+|", s[i]) != NULL;
        size_t skip = 1;
        if (!sep && i + 4 <= len && strncmp (s + i, " et ", 4) == 0) {
            sep = true;
            skip = 4;
        }
        if (!sep)
            continue;
        size_t before = out->str.len;
        if (vd_text_clean (s + start, i - start, &out->str) == 0 && out->str.len > before) {
            vd_buf_addc (&out->str, '\0');
            out->nitems++;
        }
        start = i + skip;
        i += skip - 1;
    }
    if (out->nitems == 0)
        norm_value_set_null (out);
    return NORM_OK;
}

static norm_result_t
s_rule_category (const norm_input_t *ctx, norm_value_t *out)
{
    static const char *const sparkling[] = {"cremant",   "champagne", "mousseux", "effervescent",
                                            "sparkling", "brut",      NULL};
    static const char *const other[] = {
        "petillant",        "rose",  "rouge", "red", "blanc", "white", "fortifie", "vdn",
        "vin doux naturel", "porto", NULL};
    static const char *const other_cat[] = {"petillant", "rose",    "rouge",    "rouge",
                                            "blanc",     "blanc",   "fortifie", "fortifie",
                                            "fortifie",  "fortifie"};
    bool any = false;
    const char *cat = NULL;
    for (int pass = 0; pass < 2 && !cat; pass++)
        for (int i = 0; i < 3 && !cat; i++) {
            if (!ctx->in[i])
                continue;
            const char *s = s_folded (ctx, i);
            if (!s)
                continue;
            any = true;
            int w = s_find_word (s, pass == 0 ? sparkling : other);
            if (w >= 0)
                cat = pass == 0 ? "mousseux" : other_cat[w];
        }
    if (!any) {
        norm_value_set_null (out);
        return NORM_OK;
    }
    if (!cat)
        cat = "autre";
    return norm_value_set_str (out, cat, strlen (cat)) < 0 ? NORM_BAD : NORM_OK;
}

static norm_result_t
s_rule_price_segment (const norm_input_t *ctx, norm_value_t *out)
{
    vd_dec_t incl, excl;
    norm_value_set_null (out);
    if ((ctx->in[1] ? s_decimal (ctx, 1, &incl) : 0) != 1) {
        if (s_decimal (ctx, 0, &excl) != 1 || vd_dec_mul (excl, ctx->vat_factor, 2, &incl) < 0)
            return NORM_OK;
    }
    const char *seg = vd_dec_cmp (incl, vd_dec_int (15)) < 0   ? "entry"
                      : vd_dec_cmp (incl, vd_dec_int (30)) < 0 ? "standard"
                      : vd_dec_cmp (incl, vd_dec_int (75)) < 0 ? "premium"
                                                               : "luxury";
    return norm_value_set_str (out, seg, strlen (seg)) < 0 ? NORM_BAD : NORM_OK;
}

static norm_result_t
s_rule_volume (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    vd_dec_t volume, pack;
    norm_value_set_null (out);
    int rc = s ? vd_packaging_parse (s, len, &volume, &pack) : 0;
    if (rc < 0)
        return s_bad (reason, "unreadable volume", bad, 0);
    if (rc > 0 && s_set_dec (out, volume) < 0)
        return NORM_BAD;
    return NORM_OK;
}

/*  Bottles in the pack: in[0] given (a positive whole number), else the
    N of the packaging in[1] ("6 x 75 cl"), 1 for a readable packaging
    without one. An unreadable packaging is reported by volume_cl. */
static norm_result_t
s_rule_pack_size (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t d, volume;
    norm_value_set_null (out);
    int rc = s_decimal (ctx, 0, &d);
    if (rc < 0 || (rc > 0 && (d.scale != 0 || d.v < 1)))
        return s_bad (reason, "not a pack size", bad, 0);
    if (rc > 0)
        return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
    size_t len;
    const char *s = s_input (ctx, 1, &len);
    if (s && vd_packaging_parse (s, len, &volume, &d) > 0)
        return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
    return NORM_OK;
}

/*  Document types whose quantities are positive / negative (the one list
    of vd_schema). */
static int
s_document_sign (const norm_input_t *ctx)
{
    return vd_schema_document_sign (ctx->in[1] ? s_folded (ctx, 1) : NULL);
}

static norm_result_t
s_rule_quantity (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    norm_result_t r = s_rule_number (ctx, out, reason, bad);
    if (r != NORM_OK || out->kind == NORM_NULL)
        return r;
    int sign = s_document_sign (ctx);
    bool negative = out->str.data[0] == '-';
    bool zero = strspn (out->str.data, "-0.") == out->str.len;
    if (sign > 0 && negative)
        return s_bad (reason, "negative quantity on an invoice", bad, 0);
    if (sign < 0 && !negative && !zero)
        return s_bad (reason, "positive quantity on a credit note", bad, 0);
    return NORM_OK;
}

static norm_result_t
s_rule_bottles (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t qty, factor, eq;
    norm_value_set_null (out);
    if (s_decimal (ctx, 0, &qty) != 1)
        return NORM_OK; /* the quantity column reports its own problem */
    size_t len;
    const char *unit = s_input (ctx, 1, &len);
    if (!unit) {
        /* no unit on the line: its product's packaging, when the extractor
           attached it (input "packaging" present, even empty: then the
           extractor counts the lines nobody knows, once per file) */
        const char *pack = s_input (ctx, 2, &len);
        int rc = pack ? vd_packaging_bottles (pack, len, &factor) : 0;
        if (rc < 0)
            return s_bad (reason, "unreadable packaging: 75 cl equivalent left empty", bad, 2);
        if (rc == 0 && ctx->in[2])
            return NORM_OK;
        if (rc == 0)
            return s_bad (reason, "missing unit: 75 cl equivalent left empty", bad, 1);
    } else if (!vd_units_lookup (ctx->units, unit, len, &factor))
        return s_bad (reason, "unknown unit: 75 cl equivalent left empty", bad, 1);
    int scale = qty.scale > factor.scale ? qty.scale : factor.scale;
    if (vd_dec_mul (qty, factor, scale, &eq) < 0 || s_set_dec (out, eq) < 0)
        return s_bad (reason, "quantity out of range", bad, 0);
    return NORM_OK;
}

/*  in[0] when given, else in[1] - in[2]; missing_zero: a missing in[2]
    counts as 0. */
static norm_result_t
s_rule_difference (const norm_input_t *ctx, norm_value_t *out, bool missing_zero,
                   const char **reason, int *bad)
{
    vd_dec_t a, b, d;
    norm_value_set_null (out);
    int rc = s_decimal (ctx, 0, &d);
    if (rc < 0)
        return s_bad (reason, "not a number", bad, 0);
    if (rc > 0)
        return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
    int ra = s_decimal (ctx, 1, &a);
    int rb = s_decimal (ctx, 2, &b);
    if (rb == 0 && missing_zero) {
        b = vd_dec_int (0);
        rb = 1;
    }
    if (ra != 1 || rb != 1 || vd_dec_sub (a, b, &d) < 0)
        return NORM_OK; /* inputs report their own problems */
    return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
}

/*  A margin as written (input 2): a percentage when it has a '%' sign (a
    percent-formatted spreadsheet cell reaches us as "63.8 %"), else an
    amount. 1: *percent says which, 0: absent, -1: not a number. */
static int
s_margin (const norm_input_t *ctx, vd_dec_t *margin, bool *percent)
{
    size_t len;
    const char *s = s_input (ctx, 2, &len);
    *percent = s && memchr (s, '%', len) != NULL;
    return s_decimal (ctx, 2, margin);
}

/*  cost_total: in[0] given, else from the line total in[1] and the margin
    in[2]: total - amount, or total x (100 - percent) / 100 rounded like the
    total (at least to the cent). */
static norm_result_t
s_rule_cost (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t total, margin, d;
    bool percent;
    if (s_decimal (ctx, 0, &d) != 0 || s_margin (ctx, &margin, &percent) != 1 || !percent)
        return s_rule_difference (ctx, out, false, reason, bad);
    norm_value_set_null (out);
    if (s_decimal (ctx, 1, &total) != 1 || vd_dec_sub (vd_dec_int (100), margin, &margin) < 0 ||
        vd_dec_mul (total, margin, total.scale + margin.scale, &d) < 0 ||
        vd_dec_div (d, vd_dec_int (100), s_money_scale (total), &d) < 0)
        return NORM_OK;
    return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
}

static norm_result_t
s_rule_margin_percent (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    vd_dec_t total, margin, d;
    bool percent;
    norm_value_set_null (out);
    int rc = s_decimal (ctx, 0, &d);
    if (rc < 0)
        return s_bad (reason, "not a number", bad, 0);
    if (rc > 0)
        return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
    rc = s_margin (ctx, &margin, &percent);
    if (rc < 0)
        return s_bad (reason, "not a number", bad, 2);
    if (rc > 0 && percent)
        return s_set_dec (out, margin) < 0 ? NORM_BAD : NORM_OK;
    if (rc == 0 || s_decimal (ctx, 1, &total) != 1 || total.v == 0 ||
        vd_dec_mul (margin, vd_dec_int (100), margin.scale, &margin) < 0 ||
        vd_dec_div (margin, total, 2, &d) < 0)
        return NORM_OK;
    return s_set_dec (out, d) < 0 ? NORM_BAD : NORM_OK;
}

/*  The line total: in[0] excl. VAT, else in[1] incl. VAT / (1 + rate), else
    the quantity in[2] x the unit price in[3] (excl. VAT), rounded like the
    unit price (at least to the cent). */
static norm_result_t
s_rule_line_total (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    norm_result_t r = s_rule_money (ctx, out, reason, bad);
    vd_dec_t qty, price, d;
    if (r != NORM_OK || out->kind != NORM_NULL || s_decimal (ctx, 2, &qty) != 1 ||
        s_decimal (ctx, 3, &price) != 1)
        return r;
    if (vd_dec_mul (qty, price, s_money_scale (price), &d) < 0 || s_set_dec (out, d) < 0)
        return s_bad (reason, "number out of range", bad, 3);
    return NORM_OK;
}

int
norm_product_key (const char *code, size_t len, norm_value_t *out)
{
    vd_buf_reset (&out->str);
    out->kind = NORM_STR;
    if (vd_text_product_code (code, len, &out->str) < 0) {
        norm_value_set_null (out);
        return -1;
    }
    return 0;
}

static norm_result_t
s_rule_customer_ref (const norm_input_t *ctx, norm_value_t *out)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    out->kind = NORM_STR;
    if (vd_schema_key_prefix (&out->str, ctx->source) < 0 || vd_text_clean (s, len, &out->str) < 0)
        norm_value_set_null (out);
    return NORM_OK;
}

static norm_result_t
s_rule_product_ref (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (s && norm_product_key (s, len, out) < 0)
        return s_bad (reason, "product code has no letter or digit", bad, 0);
    return NORM_OK;
}

static norm_result_t
s_rule_channel (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    static const char *const words[] = {
        "email",  "e-mail",   "mail",    "courriel", "sms",   "text",     "phone",  "telephone",
        "tel",    "appel",    "website", "web",      "site",  "internet", "online", "form",
        "direct", "boutique", "caveau",  "shop",     "salon", "visite",   NULL};
    static const char *const channel[] = {
        "email",  "email",  "email",   "email",   "sms",     "sms",     "phone",   "phone",
        "phone",  "phone",  "website", "website", "website", "website", "website", "website",
        "direct", "direct", "direct",  "direct",  "direct",  "direct"};
    const char *s = s_folded (ctx, 0);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    int w = s_find_word (s, words);
    if (w < 0)
        return s_bad (reason, "unknown contact channel", bad, 0);
    return norm_value_set_str (out, channel[w], strlen (channel[w])) < 0 ? NORM_BAD : NORM_OK;
}

static norm_result_t
s_rule_json (const norm_input_t *ctx, norm_value_t *out, const char **reason, int *bad)
{
    size_t len;
    const char *s = s_input (ctx, 0, &len);
    norm_value_set_null (out);
    if (!s)
        return NORM_OK;
    json_error_t jerr;
    json_t *doc = json_loadb (s, len, JSON_DECODE_ANY, &jerr);
    if (!doc)
        return s_bad (reason, "invalid JSON", bad, 0);
    json_decref (doc);
    return norm_value_set_str (out, s, len) < 0 ? s_bad (reason, "value too long", bad, 0)
                                                : NORM_OK;
}

norm_result_t
norm_rule_apply (vd_rule_t rule, const norm_input_t *ctx, norm_value_t *out, const char **reason,
                 int *bad)
{
    switch (rule) {
    case VD_RULE_TEXT:
        return s_rule_text (ctx, out, false);
    case VD_RULE_LOWER:
        return s_rule_text (ctx, out, true);
    case VD_RULE_EMAIL:
        return s_rule_email (ctx, out, reason, bad);
    case VD_RULE_EMAIL_INVALID:
        return s_rule_email_invalid (ctx, out);
    case VD_RULE_PHONE:
        return s_rule_phone (ctx, out, reason, bad);
    case VD_RULE_MONEY:
        return s_rule_money (ctx, out, reason, bad);
    case VD_RULE_LINE_TOTAL:
        return s_rule_line_total (ctx, out, reason, bad);
    case VD_RULE_NUMBER:
        return s_rule_number (ctx, out, reason, bad);
    case VD_RULE_INT:
        return s_rule_int (ctx, out, reason, bad);
    case VD_RULE_VINTAGE:
        return s_rule_vintage (ctx, out, reason, bad);
    case VD_RULE_DATE:
        return s_rule_date (ctx, out, false, reason, bad);
    case VD_RULE_INSTANT:
        return s_rule_date (ctx, out, true, reason, bad);
    case VD_RULE_BOOL:
        return s_rule_bool (ctx, out, reason, bad);
    case VD_RULE_LIST:
        return s_rule_list (ctx, out);
    case VD_RULE_CATEGORY:
        return s_rule_category (ctx, out);
    case VD_RULE_PRICE_SEGMENT:
        return s_rule_price_segment (ctx, out);
    case VD_RULE_VOLUME_CL:
        return s_rule_volume (ctx, out, reason, bad);
    case VD_RULE_PACK_SIZE:
        return s_rule_pack_size (ctx, out, reason, bad);
    case VD_RULE_QUANTITY:
        return s_rule_quantity (ctx, out, reason, bad);
    case VD_RULE_BOTTLES:
        return s_rule_bottles (ctx, out, reason, bad);
    case VD_RULE_COST:
        return s_rule_cost (ctx, out, reason, bad);
    case VD_RULE_AVAILABLE:
        return s_rule_difference (ctx, out, true, reason, bad);
    case VD_RULE_MARGIN_PERCENT:
        return s_rule_margin_percent (ctx, out, reason, bad);
    case VD_RULE_CUSTOMER_REF:
        return s_rule_customer_ref (ctx, out);
    case VD_RULE_PRODUCT_REF:
        return s_rule_product_ref (ctx, out, reason, bad);
    case VD_RULE_CHANNEL:
        return s_rule_channel (ctx, out, reason, bad);
    case VD_RULE_JSON:
        return s_rule_json (ctx, out, reason, bad);
    case VD_RULE_SOURCE:
        return norm_value_set_str (out, ctx->source, strlen (ctx->source)) < 0 ? NORM_BAD : NORM_OK;
    case VD_RULE_CONNECTOR:
        return norm_value_set_str (out, ctx->connector, strlen (ctx->connector)) < 0 ? NORM_BAD
                                                                                     : NORM_OK;
    case VD_RULE_DERIVED:
    case VD_RULE_KEY:
    case VD_RULE_SOURCE_ID:
        break; /* computed by norm_batch from the table description */
    }
    norm_value_set_null (out);
    return NORM_OK;
}
