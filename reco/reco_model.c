/*  reco_model - products, customers and purchases, and what is derived
    from them once per run (co-purchase neighbours, popularity, seasons). */
#include "reco_model_impl.h"
#include <math.h>

#define MIN_CO_BUYERS 2  /* fewer common buyers: no co-purchase link      */
#define POPULAR_DAYS 365 /* popularity counts buyers of the last year    */

static const char *const s_signals[RECO_NSIGNALS] = {
    [RECO_S_TASTE] = "taste",           [RECO_S_BUDGET] = "budget",
    [RECO_S_COPURCHASE] = "copurchase", [RECO_S_SEASON] = "season",
    [RECO_S_NOVELTY] = "novelty",       [RECO_S_REPEAT] = "repeat",
    [RECO_S_WIN_BACK] = "win_back",     [RECO_S_POPULAR] = "popular",
    [RECO_S_RANDOM] = "random",
};

static const char *const s_attrs[RECO_NATTRS] = {
    [RECO_A_GRAPE] = "grape",   [RECO_A_FLAVOR] = "flavor", [RECO_A_CATEGORY] = "category",
    [RECO_A_REGION] = "region", [RECO_A_BODY] = "body",
};

const char *const reco_segment_names[RECO_NSEGMENTS] = {"entry", "standard", "premium", "luxury"};

/*  ---------------------------------------------------------------------
    Growable arrays and interning */

static int
s_grow (void **array, int *cap, int n, size_t size)
{
    if (n < *cap)
        return 0;
    int next = *cap ? *cap * 2 : 64;
    void *p = realloc (*array, (size_t)next * size);
    if (!p)
        return -1;
    *array = p;
    *cap = next;
    return 0;
}

#define GROW(self, field, n, cap)                                                                  \
    s_grow ((void **)&(self)->field, &(self)->cap, (n), sizeof *(self)->field)

static int
s_lookup (zhashx_t *index, const char *key)
{
    void *v = key ? zhashx_lookup (index, key) : NULL;
    return v ? (int)(intptr_t)v - 1 : -1;
}

static int
s_remember (zhashx_t *index, const char *key, int i)
{
    return zhashx_insert (index, key, (void *)(intptr_t)(i + 1)) == 0 ? 0 : -1;
}

/*  The feature "attr:value" (values compared case-insensitively), made
    when new. -1 on out of memory or an empty value. */
static int
s_feature (reco_model_t *self, reco_attr_t attr, const char *value)
{
    if (!value || !*value)
        return -1;
    char key[256]; /* a longer value is compared on its first 250 bytes */
    if (snprintf (key, sizeof key, "%d:%s", (int)attr, value) < 0)
        return -1;
    for (char *c = key; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    int f = s_lookup (self->feature_index, key);
    if (f >= 0)
        return f;
    if (self->nfeatures == self->features_cap) {
        int cap = self->features_cap ? self->features_cap * 2 : 64;
        char **names = realloc (self->features, (size_t)cap * sizeof *names);
        if (!names)
            return -1;
        self->features = names;
        int *attrs = realloc (self->feature_attr, (size_t)cap * sizeof *attrs);
        if (!attrs)
            return -1; /* features_cap unchanged: grown again next time */
        self->feature_attr = attrs;
        self->features_cap = cap;
    }
    f = self->nfeatures;
    self->features[f] = strdup (value);
    if (!self->features[f] || s_remember (self->feature_index, key, f) < 0) {
        free (self->features[f]);
        return -1;
    }
    self->feature_attr[f] = (int)attr;
    self->nfeatures++;
    return f;
}

/*  The wine a product is a vintage of: its name without four-digit
    years, lower case (else its key without a final -YYYY). */
static int
s_family (reco_model_t *self, const char *name, const char *key)
{
    char base[256];
    const char *from = name && *name ? name : key;
    size_t n = 0;
    for (size_t i = 0; from[i] && n + 1 < sizeof base; i++) {
        if (isdigit ((unsigned char)from[i]) && isdigit ((unsigned char)from[i + 1]) &&
            isdigit ((unsigned char)from[i + 2]) && isdigit ((unsigned char)from[i + 3]) &&
            !isdigit ((unsigned char)from[i + 4]) &&
            (i == 0 || !isdigit ((unsigned char)from[i - 1]))) {
            i += 3;
            continue;
        }
        char c = (char)tolower ((unsigned char)from[i]);
        if (isalnum ((unsigned char)c) || (unsigned char)c >= 0x80)
            base[n++] = c;
    }
    base[n] = '\0';
    if (n == 0)
        return -1;
    int f = s_lookup (self->family_index, base);
    if (f < 0 && s_remember (self->family_index, base, f = self->nfamilies++) < 0)
        return -1;
    return f;
}

/*  ---------------------------------------------------------------------
    Life cycle and loading */

reco_model_t *
reco_model_new (void)
{
    reco_model_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->product_index = zhashx_new ();
    self->customer_index = zhashx_new ();
    self->feature_index = zhashx_new ();
    self->family_index = zhashx_new ();
    if (!self->product_index || !self->customer_index || !self->feature_index ||
        !self->family_index) {
        reco_model_destroy (&self);
        return NULL;
    }
    for (int s = 0; s < RECO_NSIGNALS; s++)
        self->factor[s] = 1.0;
    reco_model_defaults (&self->params);
    return self;
}

void
reco_model_destroy (reco_model_t **self_p)
{
    reco_model_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (int i = 0; i < self->nproducts; i++) {
        free (self->products[i].key);
        free (self->products[i].name);
    }
    for (int i = 0; i < self->ncustomers; i++)
        free (self->customers[i].key);
    for (int i = 0; i < self->nfeatures; i++)
        free (self->features[i]);
    free (self->products);
    free (self->customers);
    free (self->purchases);
    free (self->bad);
    free (self->pfeat);
    free (self->features);
    free (self->feature_attr);
    free (self->specificity);
    free (self->neighbours);
    free (self->nneighbours);
    zhashx_destroy (&self->product_index);
    zhashx_destroy (&self->customer_index);
    zhashx_destroy (&self->feature_index);
    zhashx_destroy (&self->family_index);
    free (self);
    *self_p = NULL;
}

void
reco_model_defaults (reco_params_t *params)
{
    memset (params, 0, sizeof *params);
    params->kind = RECO_MODEL_VENDANGE;
    params->top = 5;
    params->as_of = (int)(time (NULL) / 86400);
    params->recent_days = 90;
    params->base[RECO_S_TASTE] = 2.0;
    params->base[RECO_S_BUDGET] = 0.35;
    params->base[RECO_S_COPURCHASE] = 0.6;
    params->base[RECO_S_SEASON] = 0.4;
    params->base[RECO_S_NOVELTY] = 0.6;
    params->base[RECO_S_REPEAT] = 0.5;
    params->base[RECO_S_WIN_BACK] = 0.8;
    params->base[RECO_S_POPULAR] = 0.15;
    params->base[RECO_S_RANDOM] = 1.0;
}

const char *
reco_signal_name (reco_signal_t s)
{
    return s < RECO_NSIGNALS ? s_signals[s] : "?";
}

int
reco_signal_parse (const char *name)
{
    for (int s = 0; name && s < RECO_NSIGNALS; s++)
        if (strcmp (name, s_signals[s]) == 0)
            return s;
    return -1;
}

const char *
reco_attr_name (reco_attr_t a)
{
    return a < RECO_NATTRS ? s_attrs[a] : "?";
}

static int
s_segment (const char *name)
{
    for (int i = 0; name && i < RECO_NSEGMENTS; i++)
        if (strcmp (name, reco_segment_names[i]) == 0)
            return i;
    return -1;
}

static int
s_add_feature (reco_model_t *self, reco_attr_t attr, const char *value)
{
    int f = s_feature (self, attr, value);
    if (f < 0)
        return value && *value ? -1 : 0;
    for (int i = self->npfeat - 1; i >= 0 && i >= self->products[self->nproducts].feat_start; i--)
        if (self->pfeat[i] == f)
            return 0; /* listed twice */
    if (GROW (self, pfeat, self->npfeat, pfeat_cap) < 0)
        return -1;
    self->pfeat[self->npfeat++] = f;
    return 0;
}

int
reco_model_add_product (reco_model_t *self, const char *key, const char *name, const char *category,
                        const char *price_segment, const char *const *grapes, int ngrapes,
                        const char *const *flavors, int nflavors, int vintage, const char *region,
                        const char *body, bool active, double available, vd_error_t *err)
{
    if (!key || !*key)
        return vd_error_set (err, VD_ERR_PERMANENT, "product without a key");
    if (s_lookup (self->product_index, key) >= 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "product %s listed twice", key);
    if (GROW (self, products, self->nproducts, products_cap) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    reco_product_t *p = &self->products[self->nproducts];
    memset (p, 0, sizeof *p);
    p->feat_start = self->npfeat;
    int rc = 0;
    for (int i = 0; rc == 0 && i < ngrapes; i++)
        rc = s_add_feature (self, RECO_A_GRAPE, grapes[i]);
    for (int i = 0; rc == 0 && i < nflavors; i++)
        rc = s_add_feature (self, RECO_A_FLAVOR, flavors[i]);
    if (rc == 0)
        rc = s_add_feature (self, RECO_A_CATEGORY, category);
    p->cat = category && *category ? s_feature (self, RECO_A_CATEGORY, category) : -1;
    if (rc == 0)
        rc = s_add_feature (self, RECO_A_REGION, region);
    if (rc == 0)
        rc = s_add_feature (self, RECO_A_BODY, body);
    p->key = strdup (key);
    p->name = name && *name ? strdup (name) : NULL;
    if (rc < 0 || !p->key || (name && *name && !p->name) ||
        s_remember (self->product_index, key, self->nproducts) < 0) {
        free (p->key);
        free (p->name);
        self->npfeat = p->feat_start;
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    }
    p->nfeat = self->npfeat - p->feat_start;
    p->seg = s_segment (price_segment);
    p->vintage = vintage;
    p->family = s_family (self, name, key);
    p->active = active;
    p->available = available;
    if (!isnan (available))
        self->any_stock = true;
    self->nproducts++;
    return 0;
}

int
reco_model_add_customer (reco_model_t *self, const char *key, const char *segment,
                         const char *email, bool email_opt_out, bool email_invalid, vd_error_t *err)
{
    if (!key || !*key)
        return vd_error_set (err, VD_ERR_PERMANENT, "customer without a key");
    if (s_lookup (self->customer_index, key) >= 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "customer %s listed twice", key);
    if (GROW (self, customers, self->ncustomers, customers_cap) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    reco_customer_t *c = &self->customers[self->ncustomers];
    memset (c, 0, sizeof *c);
    c->key = strdup (key);
    if (!c->key || s_remember (self->customer_index, key, self->ncustomers) < 0) {
        free (c->key);
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    }
    c->block = email_opt_out       ? "email_opt_out"
               : email_invalid     ? "email_invalid"
               : !email || !*email ? "no_email"
                                   : NULL;
    c->win_back =
        segment && (strcmp (segment, "at_risk") == 0 || strcmp (segment, "inactive") == 0);
    self->ncustomers++;
    return 0;
}

int
reco_model_add_purchase (reco_model_t *self, const char *customer, const char *product,
                         int first_day, int last_day, double quantity, int lines, unsigned months,
                         vd_error_t *err)
{
    int c = s_lookup (self->customer_index, customer);
    int p = s_lookup (self->product_index, product);
    if (c < 0 || p < 0)
        return 0;
    if (GROW (self, purchases, self->npurchases, purchases_cap) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    self->purchases[self->npurchases++] = (reco_purchase_t){c,
                                                            p,
                                                            first_day,
                                                            last_day,
                                                            lines > 0 ? lines : 1,
                                                            (float)(quantity > 0 ? quantity : 1),
                                                            months & 0xfff};
    for (int m = 0; m < 12; m++)
        if (months & (1u << m))
            self->products[p].months[m] += 1.0; /* the estate's seasons */
    return 0;
}

void
reco_model_add_bad (reco_model_t *self, const char *customer, const char *product, unsigned signals)
{
    int c = s_lookup (self->customer_index, customer);
    int p = s_lookup (self->product_index, product);
    if (c < 0 || p < 0 || GROW (self, bad, self->nbad, bad_cap) < 0)
        return;
    self->bad[self->nbad++] = (reco_bad_t){c, p, signals};
}

void
reco_model_set_factor (reco_model_t *self, reco_signal_t s, double factor)
{
    if (s < RECO_NSIGNALS && isfinite (factor) && factor > 0)
        self->factor[s] = factor;
}

/*  ---------------------------------------------------------------------
    Preparation */

static int
s_by_customer (const void *a, const void *b)
{
    const reco_purchase_t *x = a, *y = b;
    if (x->customer != y->customer)
        return x->customer < y->customer ? -1 : 1;
    return x->last_day > y->last_day ? -1 : x->last_day < y->last_day; /* newest first */
}

static int
s_bad_by_customer (const void *a, const void *b)
{
    const reco_bad_t *x = a, *y = b;
    return (x->customer > y->customer) - (x->customer < y->customer);
}

static int
s_by_sim (const void *a, const void *b)
{
    const reco_neighbour_t *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim > y->sim ? -1 : 1;
    return (x->product > y->product) - (x->product < y->product);
}

/*  Top NEIGHBOURS co-purchased products of every product: cosine over
    distinct buyers, from each customer's BASKET_CAP newest purchases. */
static int
s_neighbours (reco_model_t *self)
{
    int np = self->nproducts;
    int *start = calloc ((size_t)np + 1, sizeof (int));
    int *buyers = malloc (((size_t)self->npurchases + 1) * sizeof (int));
    int *count = calloc ((size_t)np + 1, sizeof (int));
    int *touched = malloc (((size_t)np + 1) * sizeof (int));
    reco_neighbour_t *cand = malloc (((size_t)np + 1) * sizeof *cand);
    self->neighbours = calloc ((size_t)np * NEIGHBOURS + 1, sizeof *self->neighbours);
    self->nneighbours = calloc ((size_t)np + 1, sizeof (int));
    int rc = -1;
    if (!start || !buyers || !count || !touched || !cand || !self->neighbours || !self->nneighbours)
        goto done;
    for (int i = 0; i < self->npurchases; i++)
        start[self->purchases[i].product + 1]++;
    for (int p = 0; p < np; p++)
        start[p + 1] += start[p];
    for (int i = 0; i < self->npurchases; i++)
        buyers[start[self->purchases[i].product]++] = self->purchases[i].customer;
    for (int p = np; p > 0; p--)
        start[p] = start[p - 1];
    start[0] = 0;
    for (int p = 0; p < np; p++) {
        int ntouched = 0;
        for (int b = start[p]; b < start[p + 1]; b++) {
            const reco_customer_t *c = &self->customers[buyers[b]];
            int n = c->n < BASKET_CAP ? c->n : BASKET_CAP;
            for (int k = 0; k < n; k++) {
                int q = self->purchases[c->first + k].product;
                if (q != p && count[q]++ == 0)
                    touched[ntouched++] = q;
            }
        }
        int ncand = 0;
        for (int t = 0; t < ntouched; t++) {
            int q = touched[t];
            if (count[q] >= MIN_CO_BUYERS)
                cand[ncand++] = (reco_neighbour_t){
                    q, (float)(count[q] /
                               sqrt ((double)self->products[p].buyers * self->products[q].buyers))};
            count[q] = 0;
        }
        qsort (cand, (size_t)ncand, sizeof *cand, s_by_sim);
        int keep = ncand < NEIGHBOURS ? ncand : NEIGHBOURS;
        memcpy (&self->neighbours[(size_t)p * NEIGHBOURS], cand, (size_t)keep * sizeof *cand);
        self->nneighbours[p] = keep;
    }
    rc = 0;
done:
    free (start);
    free (buyers);
    free (count);
    free (touched);
    free (cand);
    return rc;
}

static int
s_month_of (int day)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    return tm.tm_mon + 1;
}

/*  The estate's season value of each category at as_of: the lift of its
    sales in the window months over an even year, (lift - 1) / 2 capped
    to 0..1. */
static void
s_seasons (reco_model_t *self)
{
    double *window = calloc ((size_t)self->nfeatures + 1, sizeof (double));
    double *total = calloc ((size_t)self->nfeatures + 1, sizeof (double));
    if (!window || !total) {
        free (window);
        free (total);
        return; /* no seasons: the signal stays 0 */
    }
    for (int p = 0; p < self->nproducts; p++) {
        const reco_product_t *prod = &self->products[p];
        if (prod->cat < 0)
            continue;
        for (int m = 0; m < 12; m++) {
            total[prod->cat] += prod->months[m];
            if (self->window & (1u << m))
                window[prod->cat] += prod->months[m];
        }
    }
    for (int p = 0; p < self->nproducts; p++) {
        reco_product_t *prod = &self->products[p];
        if (prod->cat < 0 || total[prod->cat] < 12)
            continue;
        double lift = (window[prod->cat] / total[prod->cat]) / (2.0 / 12.0);
        prod->season = fmin (1.0, fmax (0.0, (lift - 1.0) / 2.0));
    }
    free (window);
    free (total);
}

int
reco_model_prepare (reco_model_t *self, const reco_params_t *params, vd_error_t *err)
{
    self->params = *params;
    if (self->params.top < 1 || self->params.top > RECO_MAX_TOP)
        return vd_error_set (err, VD_ERR_PERMANENT, "top must be 1..%d", RECO_MAX_TOP);
    for (int s = 0; s < RECO_NSIGNALS; s++)
        self->weight[s] = self->params.base[s] * self->factor[s];
    if (self->npurchases)
        qsort (self->purchases, (size_t)self->npurchases, sizeof *self->purchases, s_by_customer);
    for (int i = 0; i < self->npurchases; i++) {
        reco_customer_t *c = &self->customers[self->purchases[i].customer];
        if (c->n++ == 0)
            c->first = i;
        reco_product_t *p = &self->products[self->purchases[i].product];
        p->buyers++;
        if (self->purchases[i].last_day >= params->as_of - POPULAR_DAYS)
            p->recent_buyers++;
    }
    if (self->nbad)
        qsort (self->bad, (size_t)self->nbad, sizeof *self->bad, s_bad_by_customer);
    for (int i = 0; i < self->nbad; i++) {
        reco_customer_t *c = &self->customers[self->bad[i].customer];
        if (c->nbad++ == 0)
            c->bad_first = i;
    }
    int most = 1;
    for (int p = 0; p < self->nproducts; p++)
        if (self->products[p].recent_buyers > most)
            most = self->products[p].recent_buyers;
    for (int p = 0; p < self->nproducts; p++) {
        reco_product_t *prod = &self->products[p];
        prod->popularity = (double)prod->recent_buyers / most;
        prod->eligible =
            prod->active && (isnan (prod->available) ? !self->any_stock : prod->available > 0);
    }
    /* an attribute every wine shares (the estate's region) explains nothing */
    self->specificity = calloc ((size_t)self->nfeatures + 1, sizeof (double));
    if (!self->specificity)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    for (int i = 0; i < self->npfeat; i++)
        self->specificity[self->pfeat[i]] += 1.0;
    for (int f = 0; f < self->nfeatures; f++)
        self->specificity[f] = 1.0 - self->specificity[f] / self->nproducts;
    self->month = s_month_of (params->as_of);
    self->window = (1u << (self->month - 1)) | (1u << (self->month % 12));
    s_seasons (self);
    if (s_neighbours (self) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    self->prepared = true;
    return 0;
}

/*  ---------------------------------------------------------------------
    Accessors */

int
reco_model_customers (const reco_model_t *self)
{
    return self->ncustomers;
}

int
reco_model_products (const reco_model_t *self)
{
    return self->nproducts;
}

int
reco_model_customer_index (const reco_model_t *self, const char *key)
{
    return s_lookup (self->customer_index, key);
}

const char *
reco_model_customer_key (const reco_model_t *self, int customer)
{
    return self->customers[customer].key;
}

const char *
reco_model_campaign_block (const reco_model_t *self, int customer)
{
    return self->customers[customer].block;
}

bool
reco_model_win_back (const reco_model_t *self, int customer)
{
    return self->customers[customer].win_back;
}

const char *
reco_model_product_key (const reco_model_t *self, int product)
{
    return self->products[product].key;
}

const char *
reco_model_product_name (const reco_model_t *self, int product)
{
    const reco_product_t *p = &self->products[product];
    return p->name ? p->name : p->key;
}

const char *
reco_model_feature_name (const reco_model_t *self, int feature)
{
    return feature >= 0 && feature < self->nfeatures ? self->features[feature] : NULL;
}

double
reco_model_weight (const reco_model_t *self, reco_signal_t s)
{
    return s < RECO_NSIGNALS ? self->weight[s] : 0;
}

/*  ---------------------------------------------------------------------
    Self test (scoring: reco_score) */

int
reco_model_test (bool verbose)
{
    reco_model_t *m = reco_model_new ();
    assert (m);
    vd_error_t err;
    vd_error_clear (&err);
    const char *grapes[] = {"Riesling"};
    assert (reco_model_add_product (m, "PN-2022", "Pinot Noir 2022", "rouge", "premium", grapes, 1,
                                    NULL, 0, 2022, "Alsace", "light", true, 5, &err) == 0);
    /* a key listed twice, a product without a key: refused with a reason */
    assert (reco_model_add_product (m, "PN-2022", NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, NULL,
                                    true, NAN, &err) == -1);
    assert (strstr (err.msg, "twice"));
    assert (reco_model_add_product (m, "", NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, NULL, true,
                                    NAN, &err) == -1);
    assert (reco_model_add_customer (m, "c1", "standard", "a@b.fr", false, false, NULL) == 0);
    assert (reco_model_add_customer (m, "c2", "inactive", NULL, false, false, NULL) == 0);
    assert (reco_model_add_customer (m, "c3", "standard", "c@d.fr", true, false, NULL) == 0);
    assert (reco_model_add_customer (m, "c1", NULL, NULL, false, false, &err) == -1);
    /* unknown customer or product: ignored */
    assert (reco_model_add_purchase (m, "nobody", "PN-2022", 0, 0, 1, 1, 0, NULL) == 0);
    assert (reco_model_add_purchase (m, "c1", "NOPE", 0, 0, 1, 1, 0, NULL) == 0);
    reco_params_t params;
    reco_model_defaults (&params);
    params.top = 0;
    assert (reco_model_prepare (m, &params, &err) == -1); /* top out of range */
    params.top = 3;
    assert (reco_model_prepare (m, &params, &err) == 0);
    /* who may receive a campaign, who gets win-back suggestions */
    int c1 = reco_model_customer_index (m, "c1"), c2 = reco_model_customer_index (m, "c2");
    assert (reco_model_campaign_block (m, c1) == NULL && !reco_model_win_back (m, c1));
    assert (strcmp (reco_model_campaign_block (m, c2), "no_email") == 0);
    assert (reco_model_win_back (m, c2));
    assert (strcmp (reco_model_campaign_block (m, reco_model_customer_index (m, "c3")),
                    "email_opt_out") == 0);
    assert (reco_model_customer_index (m, "nobody") == -1);
    reco_model_destroy (&m);
    reco_model_destroy (&m); /* NULL is fine */
    assert (reco_signal_parse ("copurchase") == RECO_S_COPURCHASE && reco_signal_parse ("x") == -1);
    if (verbose)
        printf (" * reco_model: OK\n");
    return 0;
}
