/*  reco_model - products, customers, purchases and the scoring. */
#include "reco_model.h"
#include <czmq.h>
#include <jansson.h>
#include <math.h>

#define NEIGHBOURS 30        /* co-purchase neighbours kept per product       */
#define BASKET_CAP 60        /* purchases of one customer used for co-purchase */
#define MIN_CO_BUYERS 2      /* fewer common buyers: no co-purchase link      */
#define HALF_LIFE_DAYS 540.0 /* a purchase's weight halves with this age     */
#define POPULAR_DAYS 365     /* popularity counts buyers of the last year    */
#define MIN_REASON 0.005     /* smaller parts of a score are not reasons     */

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

/*  Share of each attribute in the taste value (sums to 1). */
static const double s_attr_weight[RECO_NATTRS] = {
    [RECO_A_GRAPE] = 0.35,  [RECO_A_FLAVOR] = 0.15, [RECO_A_CATEGORY] = 0.25,
    [RECO_A_REGION] = 0.15, [RECO_A_BODY] = 0.10,
};

static const char *const s_segments[] = {"entry", "standard", "premium", "luxury"};
static const char *const s_segment_text[] = {"under 15 EUR incl. VAT", "15 to 30 EUR incl. VAT",
                                             "30 to 75 EUR incl. VAT", "75 EUR incl. VAT and more"};
#define NSEGMENTS 4

static const char *const s_months[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

typedef struct {
    char *key, *name;
    int seg;     /* price segment 0..3, -1 unknown */
    int vintage; /* 0 unknown */
    int family;  /* the wine across vintages, -1 */
    int cat;     /* category feature, -1 */
    int feat_start, nfeat;
    bool active;
    double available;
    bool eligible;
    int buyers, recent_buyers;
    double popularity; /* 0..1 */
    double season;     /* the estate's season value at as_of, 0..1 */
    double months[12];
} s_product_t;

typedef struct {
    char *key;
    const char *block; /* campaign block, static string or NULL */
    bool win_back;
    int first, n; /* its purchases */
    int bad_first, nbad;
} s_customer_t;

typedef struct {
    int customer, product;
    int first_day, last_day, lines;
    float quantity;
    unsigned months;
} s_purchase_t;

typedef struct {
    int customer, product;
    unsigned signals;
} s_bad_t;

typedef struct {
    int product;
    float sim;
} s_neighbour_t;

struct reco_model {
    reco_params_t params;
    double factor[RECO_NSIGNALS];
    double weight[RECO_NSIGNALS];
    s_product_t *products;
    int nproducts, products_cap;
    s_customer_t *customers;
    int ncustomers, customers_cap;
    s_purchase_t *purchases;
    int npurchases, purchases_cap;
    s_bad_t *bad;
    int nbad, bad_cap;
    int *pfeat; /* product features, by product */
    int npfeat, pfeat_cap;
    char **features; /* value of each feature */
    int *feature_attr;
    double *specificity; /* share of the products without the feature */
    int nfeatures, features_cap;
    int nfamilies;
    zhashx_t *product_index, *customer_index, *feature_index, *family_index;
    s_neighbour_t *neighbours; /* NEIGHBOURS per product */
    int *nneighbours;
    bool any_stock;
    unsigned window; /* months of the season window (bit m-1) */
    int month;       /* as_of's month, 1..12 */
    bool prepared;
};

struct reco_scratch {
    double *prof, *prof_top;
    int *prof_trig;
    double *cat_total, *cat_window;
    double *co;
    int *co_trig;
    int *bought; /* purchase index + 1 */
    int *family_vintage, *family_trig;
    int *touched_f, *touched_p, *touched_w;
    int ntouched_f, ntouched_p, ntouched_w;
};

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
    for (int i = 0; name && i < NSEGMENTS; i++)
        if (strcmp (name, s_segments[i]) == 0)
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
    s_product_t *p = &self->products[self->nproducts];
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
    s_customer_t *c = &self->customers[self->ncustomers];
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
    self->purchases[self->npurchases++] = (s_purchase_t){c,
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
    self->bad[self->nbad++] = (s_bad_t){c, p, signals};
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
    const s_purchase_t *x = a, *y = b;
    if (x->customer != y->customer)
        return x->customer < y->customer ? -1 : 1;
    return x->last_day > y->last_day ? -1 : x->last_day < y->last_day; /* newest first */
}

static int
s_bad_by_customer (const void *a, const void *b)
{
    const s_bad_t *x = a, *y = b;
    return (x->customer > y->customer) - (x->customer < y->customer);
}

static int
s_by_sim (const void *a, const void *b)
{
    const s_neighbour_t *x = a, *y = b;
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
    s_neighbour_t *cand = malloc (((size_t)np + 1) * sizeof *cand);
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
            const s_customer_t *c = &self->customers[buyers[b]];
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
                cand[ncand++] =
                    (s_neighbour_t){q, (float)(count[q] / sqrt ((double)self->products[p].buyers *
                                                                self->products[q].buyers))};
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
        const s_product_t *prod = &self->products[p];
        if (prod->cat < 0)
            continue;
        for (int m = 0; m < 12; m++) {
            total[prod->cat] += prod->months[m];
            if (self->window & (1u << m))
                window[prod->cat] += prod->months[m];
        }
    }
    for (int p = 0; p < self->nproducts; p++) {
        s_product_t *prod = &self->products[p];
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
        s_customer_t *c = &self->customers[self->purchases[i].customer];
        if (c->n++ == 0)
            c->first = i;
        s_product_t *p = &self->products[self->purchases[i].product];
        p->buyers++;
        if (self->purchases[i].last_day >= params->as_of - POPULAR_DAYS)
            p->recent_buyers++;
    }
    if (self->nbad)
        qsort (self->bad, (size_t)self->nbad, sizeof *self->bad, s_bad_by_customer);
    for (int i = 0; i < self->nbad; i++) {
        s_customer_t *c = &self->customers[self->bad[i].customer];
        if (c->nbad++ == 0)
            c->bad_first = i;
    }
    int most = 1;
    for (int p = 0; p < self->nproducts; p++)
        if (self->products[p].recent_buyers > most)
            most = self->products[p].recent_buyers;
    for (int p = 0; p < self->nproducts; p++) {
        s_product_t *prod = &self->products[p];
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
    const s_product_t *p = &self->products[product];
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
    Scoring */

reco_scratch_t *
reco_scratch_new (const reco_model_t *model)
{
    reco_scratch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t nf = (size_t)model->nfeatures + 1, np = (size_t)model->nproducts + 1,
           nw = (size_t)model->nfamilies + 1;
    self->prof = calloc (nf, sizeof (double));
    self->prof_top = calloc (nf, sizeof (double));
    self->prof_trig = calloc (nf, sizeof (int));
    self->cat_total = calloc (nf, sizeof (double));
    self->cat_window = calloc (nf, sizeof (double));
    self->touched_f = calloc (nf, sizeof (int));
    self->co = calloc (np, sizeof (double));
    self->co_trig = calloc (np, sizeof (int));
    self->bought = calloc (np, sizeof (int));
    self->touched_p = calloc (np, sizeof (int));
    self->family_vintage = calloc (nw, sizeof (int));
    self->family_trig = calloc (nw, sizeof (int));
    self->touched_w = calloc (nw, sizeof (int));
    if (!self->prof || !self->prof_top || !self->prof_trig || !self->cat_total ||
        !self->cat_window || !self->touched_f || !self->co || !self->co_trig || !self->bought ||
        !self->touched_p || !self->family_vintage || !self->family_trig || !self->touched_w)
        reco_scratch_destroy (&self);
    return self;
}

void
reco_scratch_destroy (reco_scratch_t **self_p)
{
    reco_scratch_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    free (self->prof);
    free (self->prof_top);
    free (self->prof_trig);
    free (self->cat_total);
    free (self->cat_window);
    free (self->touched_f);
    free (self->co);
    free (self->co_trig);
    free (self->bought);
    free (self->touched_p);
    free (self->family_vintage);
    free (self->family_trig);
    free (self->touched_w);
    free (self);
    *self_p = NULL;
}

/*  What one customer's history says, for scoring each product. */
typedef struct {
    const s_customer_t *customer;
    int index;
    double total;              /* sum of purchase weights */
    double max_weight;         /* of one purchase */
    double segment[NSEGMENTS]; /* weights by price segment */
    double feedback[RECO_NSIGNALS];
} s_profile_t;

static double
s_purchase_weight (const reco_model_t *self, const s_purchase_t *pu)
{
    double age = self->params.as_of - pu->last_day;
    return (1.0 + log1p (pu->quantity) + 0.5 * (pu->lines - 1)) *
           pow (0.5, (age > 0 ? age : 0) / HALF_LIFE_DAYS);
}

static void
s_touch (int *list, int *n, int i)
{
    list[(*n)++] = i;
}

static void
s_profile (const reco_model_t *self, int customer, reco_scratch_t *sc, s_profile_t *pr)
{
    memset (pr, 0, sizeof *pr);
    pr->customer = &self->customers[customer];
    pr->index = customer;
    for (int s = 0; s < RECO_NSIGNALS; s++)
        pr->feedback[s] = 1.0;
    const s_customer_t *c = pr->customer;
    for (int b = c->bad_first; b < c->bad_first + c->nbad; b++)
        for (int s = 0; s < RECO_NSIGNALS; s++)
            if (self->bad[b].signals & (1u << s))
                pr->feedback[s] *= 0.5;
    for (int k = c->first; k < c->first + c->n; k++) {
        const s_purchase_t *pu = &self->purchases[k];
        const s_product_t *p = &self->products[pu->product];
        double w = s_purchase_weight (self, pu);
        pr->total += w;
        if (w > pr->max_weight)
            pr->max_weight = w;
        if (p->seg >= 0)
            pr->segment[p->seg] += w;
        if (sc->bought[pu->product] == 0)
            s_touch (sc->touched_p, &sc->ntouched_p, pu->product);
        sc->bought[pu->product] = k + 1;
        for (int i = p->feat_start; i < p->feat_start + p->nfeat; i++) {
            int f = self->pfeat[i];
            if (sc->prof[f] == 0 && sc->cat_total[f] == 0)
                s_touch (sc->touched_f, &sc->ntouched_f, f);
            sc->prof[f] += w;
            if (w > sc->prof_top[f]) {
                sc->prof_top[f] = w;
                sc->prof_trig[f] = pu->product;
            }
        }
        if (p->cat >= 0) {
            int bits = __builtin_popcount (pu->months);
            sc->cat_total[p->cat] += w;
            if (bits)
                sc->cat_window[p->cat] += w * __builtin_popcount (pu->months & self->window) / bits;
        }
        if (p->family >= 0 && p->vintage > 0) {
            if (sc->family_vintage[p->family] == 0)
                s_touch (sc->touched_w, &sc->ntouched_w, p->family);
            if (sc->family_vintage[p->family] == 0 || p->vintage > sc->family_vintage[p->family]) {
                sc->family_vintage[p->family] = p->vintage;
                sc->family_trig[p->family] = pu->product;
            }
        }
    }
    /* co-purchase: the best link from any of the newest purchases */
    int n = c->n < BASKET_CAP ? c->n : BASKET_CAP;
    for (int k = c->first; k < c->first + n; k++) {
        int from = self->purchases[k].product;
        const s_neighbour_t *nb = &self->neighbours[(size_t)from * NEIGHBOURS];
        for (int j = 0; j < self->nneighbours[from]; j++) {
            int q = nb[j].product;
            if (sc->co[q] == 0 && sc->bought[q] == 0)
                s_touch (sc->touched_p, &sc->ntouched_p, q);
            if (nb[j].sim > sc->co[q]) {
                sc->co[q] = nb[j].sim;
                sc->co_trig[q] = from;
            }
        }
    }
}

static void
s_clear (reco_scratch_t *sc)
{
    for (int i = 0; i < sc->ntouched_f; i++) {
        int f = sc->touched_f[i];
        sc->prof[f] = sc->prof_top[f] = sc->cat_total[f] = sc->cat_window[f] = 0;
    }
    for (int i = 0; i < sc->ntouched_p; i++) {
        int p = sc->touched_p[i];
        sc->co[p] = 0;
        sc->bought[p] = 0;
    }
    for (int i = 0; i < sc->ntouched_w; i++)
        sc->family_vintage[sc->touched_w[i]] = 0;
    sc->ntouched_f = sc->ntouched_p = sc->ntouched_w = 0;
}

static void
s_reason (reco_item_t *item, reco_reason_t r)
{
    if (r.weight < MIN_REASON)
        return;
    int at;
    if (item->nreasons < RECO_MAX_REASONS)
        at = item->nreasons++;
    else if (r.weight > item->reasons[RECO_MAX_REASONS - 1].weight)
        at = RECO_MAX_REASONS - 1; /* replaces the smallest */
    else
        return;
    while (at > 0 && item->reasons[at - 1].weight < r.weight) {
        item->reasons[at] = item->reasons[at - 1];
        at--;
    }
    item->reasons[at] = r;
}

static uint32_t
s_hash (uint32_t a, uint32_t b)
{
    uint32_t h = a * 2654435761u ^ (b + 0x9e3779b9u + (a << 6) + (a >> 2));
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

static reco_reason_t
s_make (reco_signal_t s, double weight)
{
    return (reco_reason_t){s, weight, -1, -1, -1, 0, 0, false};
}

/*  The score of product p for the profile; with item, its reasons too. */
static double
s_score (const reco_model_t *self, const s_profile_t *pr, const reco_scratch_t *sc, int p,
         reco_item_t *item)
{
    const s_product_t *prod = &self->products[p];
    const double *w = self->weight;
    if (self->params.kind == RECO_MODEL_RANDOM) {
        double v = (s_hash ((uint32_t)pr->index, (uint32_t)p) >> 8) / (double)(1u << 24);
        if (item)
            s_reason (item, s_make (RECO_S_RANDOM, v));
        return v;
    }
    if (self->params.kind == RECO_MODEL_POPULARITY) {
        if (item)
            s_reason (item, s_make (RECO_S_POPULAR, prod->popularity));
        return prod->popularity;
    }
    double score = w[RECO_S_POPULAR] * pr->feedback[RECO_S_POPULAR] * prod->popularity;
    if (item)
        s_reason (item, s_make (RECO_S_POPULAR, score));
    if (pr->total > 0) {
        /* taste: per attribute, the best-matching value's share */
        double best[RECO_NATTRS] = {0};
        int best_f[RECO_NATTRS];
        for (int i = prod->feat_start; i < prod->feat_start + prod->nfeat; i++) {
            int f = self->pfeat[i], a = self->feature_attr[f];
            double v = sc->prof[f] * self->specificity[f];
            if (v > best[a]) {
                best[a] = v;
                best_f[a] = f;
            }
        }
        double taste_w = w[RECO_S_TASTE] * pr->feedback[RECO_S_TASTE];
        for (int a = 0; a < RECO_NATTRS; a++) {
            if (best[a] <= 0)
                continue;
            double part = taste_w * s_attr_weight[a] * best[a] / pr->total;
            score += part;
            if (item) {
                reco_reason_t r = s_make (RECO_S_TASTE, part);
                r.attr = a;
                r.feature = best_f[a];
                r.trigger = sc->prof_trig[best_f[a]];
                s_reason (item, r);
            }
        }
        if (prod->seg >= 0) {
            double part =
                w[RECO_S_BUDGET] * pr->feedback[RECO_S_BUDGET] * pr->segment[prod->seg] / pr->total;
            score += part;
            if (item)
                s_reason (item, s_make (RECO_S_BUDGET, part));
        }
        if (sc->co[p] > 0) {
            double part = w[RECO_S_COPURCHASE] * pr->feedback[RECO_S_COPURCHASE] *
                          fmin (1.0, 2.0 * sc->co[p]);
            score += part;
            if (item) {
                reco_reason_t r = s_make (RECO_S_COPURCHASE, part);
                r.trigger = sc->co_trig[p];
                s_reason (item, r);
            }
        }
        if (prod->family >= 0 && prod->vintage > 0 && sc->bought[p] == 0 &&
            sc->family_vintage[prod->family] > 0 &&
            sc->family_vintage[prod->family] < prod->vintage) {
            double part = w[RECO_S_NOVELTY] * pr->feedback[RECO_S_NOVELTY];
            score += part;
            if (item) {
                reco_reason_t r = s_make (RECO_S_NOVELTY, part);
                r.trigger = sc->family_trig[prod->family];
                s_reason (item, r);
            }
        }
        if (sc->bought[p] > 0) {
            const s_purchase_t *pu = &self->purchases[sc->bought[p] - 1];
            reco_signal_t s = pr->customer->win_back ? RECO_S_WIN_BACK : RECO_S_REPEAT;
            double v = s == RECO_S_WIN_BACK ? s_purchase_weight (self, pu) / pr->max_weight
                                            : fmin (1.0, pu->lines / 3.0);
            double part = w[s] * pr->feedback[s] * v;
            score += part;
            if (item) {
                reco_reason_t r = s_make (s, part);
                r.trigger = p;
                r.count = pu->lines;
                r.day = pu->last_day;
                s_reason (item, r);
            }
        }
    }
    /* season: the customer's habit, else the estate's */
    double personal = 0;
    if (prod->cat >= 0 && sc->cat_total[prod->cat] > 0) {
        double share = sc->cat_window[prod->cat] / sc->cat_total[prod->cat];
        personal = fmax (0.0, (share - 2.0 / 12.0) / (10.0 / 12.0));
    }
    double season = fmax (personal, 0.5 * prod->season);
    if (season > 0) {
        double part = w[RECO_S_SEASON] * pr->feedback[RECO_S_SEASON] * season;
        score += part;
        if (item) {
            reco_reason_t r = s_make (RECO_S_SEASON, part);
            r.attr = RECO_A_CATEGORY;
            r.feature = prod->cat;
            r.count = self->month;
            r.personal = personal >= 0.5 * prod->season;
            s_reason (item, r);
        }
    }
    return score;
}

static bool
s_excluded (const reco_model_t *self, const s_profile_t *pr, const reco_scratch_t *sc, int p)
{
    if (!self->products[p].eligible)
        return true;
    if (sc->bought[p] > 0 &&
        self->purchases[sc->bought[p] - 1].last_day > self->params.as_of - self->params.recent_days)
        return true;
    const s_customer_t *c = pr->customer;
    for (int b = c->bad_first; b < c->bad_first + c->nbad; b++)
        if (self->bad[b].product == p)
            return true;
    return false;
}

int
reco_model_recommend (const reco_model_t *self, int customer, reco_scratch_t *sc, reco_item_t *out)
{
    if (!self->prepared || customer < 0 || customer >= self->ncustomers)
        return 0;
    s_profile_t pr;
    s_profile (self, customer, sc, &pr);
    int top = self->params.top, n = 0;
    for (int p = 0; p < self->nproducts; p++) {
        if (s_excluded (self, &pr, sc, p))
            continue;
        double score = s_score (self, &pr, sc, p, NULL);
        if (score <= 0 || (n == top && score <= out[n - 1].score))
            continue;
        int at = n < top ? n++ : top - 1;
        while (at > 0 && out[at - 1].score < score) {
            out[at] = out[at - 1];
            at--;
        }
        out[at].product = p;
        out[at].score = score;
    }
    for (int i = 0; i < n; i++) {
        out[i].nreasons = 0;
        s_score (self, &pr, sc, out[i].product, &out[i]);
    }
    s_clear (sc);
    return n;
}

/*  ---------------------------------------------------------------------
    Reasons as data */

static void
s_date (int day, char *out, size_t size)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, size, "%Y-%m-%d", &tm);
}

static void
s_text (const reco_model_t *self, const reco_item_t *item, const reco_reason_t *r, vd_buf_t *t)
{
    const char *value = reco_model_feature_name (self, r->feature);
    const char *trigger = r->trigger >= 0 ? reco_model_product_name (self, r->trigger) : "";
    char date[16] = "";
    if (r->day)
        s_date (r->day, date, sizeof date);
    switch (r->signal) {
    case RECO_S_TASTE:
        if (r->trigger == item->product) /* a favourite bought again */
            vd_buf_printf (t, "%s %s, as in what you usually buy",
                           r->attr == RECO_A_FLAVOR ? "notes of" : s_attrs[r->attr], value);
        else if (r->attr == RECO_A_FLAVOR)
            vd_buf_printf (t, "%s notes, like %s that you bought", value, trigger);
        else if (r->attr == RECO_A_CATEGORY)
            vd_buf_printf (t, "a %s, like %s that you bought", value, trigger);
        else
            vd_buf_printf (t, "%s %s, like %s that you bought", s_attrs[r->attr], value, trigger);
        break;
    case RECO_S_BUDGET: {
        int seg = self->products[item->product].seg;
        vd_buf_printf (t, "in your usual price range (%s, %s)", s_segments[seg],
                       s_segment_text[seg]);
        break;
    }
    case RECO_S_COPURCHASE:
        vd_buf_printf (t, "customers who bought %s also bought it", trigger);
        break;
    case RECO_S_SEASON:
        if (r->personal)
            vd_buf_printf (t, "you usually buy %s at this time of year (%s, %s)", value,
                           s_months[r->count - 1], s_months[r->count % 12]);
        else
            vd_buf_printf (t, "%s sells most at this time of year", value);
        break;
    case RECO_S_NOVELTY:
        vd_buf_printf (t, "a newer vintage of %s that you bought", trigger);
        break;
    case RECO_S_REPEAT:
        if (r->count > 1)
            vd_buf_printf (t, "you bought it %d times, last on %s", r->count, date);
        else
            vd_buf_printf (t, "you bought it on %s", date);
        break;
    case RECO_S_WIN_BACK:
        vd_buf_printf (t, "win-back: one of your favourites, last bought on %s", date);
        break;
    case RECO_S_POPULAR:
        vd_buf_addstr (t, "popular with the estate's customers this year");
        break;
    default:
        vd_buf_addstr (t, "random baseline");
        break;
    }
}

static int
s_json_string (vd_buf_t *out, const char *s)
{
    if (!s)
        return vd_buf_addstr (out, "null");
    if (vd_buf_addc (out, '"') < 0 || vd_json_escape (out, s, strlen (s)) < 0)
        return -1;
    return vd_buf_addc (out, '"');
}

int
reco_model_reasons_json (const reco_model_t *self, const reco_item_t *item, vd_buf_t *out)
{
    vd_buf_t text;
    vd_buf_init (&text, 4096);
    int rc = vd_buf_addc (out, '[');
    for (int i = 0; rc == 0 && i < item->nreasons; i++) {
        const reco_reason_t *r = &item->reasons[i];
        const char *value = r->signal == RECO_S_BUDGET
                                ? s_segments[self->products[item->product].seg]
                                : reco_model_feature_name (self, r->feature);
        vd_buf_reset (&text);
        s_text (self, item, r, &text);
        const char *attr = r->signal == RECO_S_BUDGET ? "price_segment"
                           : r->attr >= 0             ? s_attrs[r->attr]
                                                      : NULL;
        rc =
            vd_buf_printf (out, "%s{\"signal\":\"%s\",\"weight\":%.4f,\"attribute\":", i ? "," : "",
                           s_signals[r->signal], r->weight);
        if (rc == 0)
            rc = s_json_string (out, attr);
        if (rc == 0)
            rc = vd_buf_addstr (out, ",\"value\":");
        if (rc == 0)
            rc = s_json_string (out, value);
        if (rc == 0)
            rc = vd_buf_addstr (out, ",\"product_key\":");
        if (rc == 0)
            rc = s_json_string (out, r->trigger >= 0 ? self->products[r->trigger].key : NULL);
        if (rc == 0)
            rc = vd_buf_addstr (out, ",\"text\":");
        if (rc == 0)
            rc = s_json_string (out, vd_buf_str (&text));
        if (rc == 0)
            rc = vd_buf_addc (out, '}');
    }
    vd_buf_free (&text);
    return rc == 0 ? vd_buf_addc (out, ']') : -1;
}

/*  ---------------------------------------------------------------------
    Self test */

#define DAY(y, m, d)                                                                               \
    ((int)(timegm (&(struct tm){.tm_year = (y)-1900, .tm_mon = (m)-1, .tm_mday = (d)}) / 86400))

static void
s_test_product (reco_model_t *m, const char *key, const char *name, const char *cat,
                const char *seg, const char *grape, int vintage, bool active, double stock)
{
    const char *grapes[] = {grape};
    const char *flavors[] = {"citrus"};
    int rc = reco_model_add_product (m, key, name, cat, seg, grapes, 1, flavors, 1, vintage,
                                     "Alsace", "light", active, stock, NULL);
    assert (rc == 0);
}

int
reco_model_test (bool verbose)
{
    reco_model_t *m = reco_model_new ();
    assert (m);
    s_test_product (m, "RIES-2021", "Riesling 2021", "blanc", "standard", "Riesling", 2021, true,
                    10);
    s_test_product (m, "RIES-2022", "Riesling 2022", "blanc", "standard", "Riesling", 2022, true,
                    10);
    s_test_product (m, "RIES-OLD", "Riesling \"Old\"", "blanc", "standard", "Riesling", 2015, false,
                    10);
    s_test_product (m, "RIES-OUT", "Riesling Out", "blanc", "standard", "Riesling", 2020, true, 0);
    s_test_product (m, "PN-2022", "Pinot Noir 2022", "rouge", "premium", "Pinot Noir", 2022, true,
                    5);
    s_test_product (m, "CREM", "Crémant", "mousseux", "entry", "Pinot Blanc", 0, true, 5);
    vd_error_t err;
    vd_error_clear (&err);
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
    int today = DAY (2026, 11, 20);
    assert (reco_model_add_purchase (m, "c1", "RIES-2021", DAY (2025, 1, 10), DAY (2025, 6, 1), 12,
                                     2, 0x21, NULL) == 0);
    assert (reco_model_add_purchase (m, "c1", "CREM", DAY (2026, 11, 1), DAY (2026, 11, 1), 6, 1,
                                     0x400, NULL) == 0);
    assert (reco_model_add_purchase (m, "c2", "PN-2022", DAY (2023, 1, 1), DAY (2023, 1, 1), 6, 1,
                                     0x1, NULL) == 0);
    /* unknown customer or product: ignored */
    assert (reco_model_add_purchase (m, "nobody", "CREM", 0, 0, 1, 1, 0, NULL) == 0);
    assert (reco_model_add_purchase (m, "c1", "NOPE", 0, 0, 1, 1, 0, NULL) == 0);
    reco_params_t params;
    reco_model_defaults (&params);
    params.as_of = today;
    params.top = 3;
    params.top = 0;
    assert (reco_model_prepare (m, &params, &err) == -1); /* top out of range */
    params.top = 3;
    assert (reco_model_prepare (m, &params, &err) == 0);
    reco_scratch_t *sc = reco_scratch_new (m);
    assert (sc);
    reco_item_t out[RECO_MAX_TOP];
    int c1 = reco_model_customer_index (m, "c1");
    int n = reco_model_recommend (m, c1, sc, out);
    assert (n >= 2);
    /* the newer vintage first, with its novelty and taste reasons; never the
       inactive, the out-of-stock or the Crémant bought 19 days ago */
    assert (strcmp (reco_model_product_key (m, out[0].product), "RIES-2022") == 0);
    for (int i = 0; i < n; i++) {
        const char *k = reco_model_product_key (m, out[i].product);
        assert (strcmp (k, "RIES-OLD") != 0 && strcmp (k, "RIES-OUT") != 0 &&
                strcmp (k, "CREM") != 0);
        assert (i == 0 || out[i].score <= out[i - 1].score);
    }
    vd_buf_t json;
    vd_buf_init (&json, 64 * 1024);
    assert (reco_model_reasons_json (m, &out[0], &json) == 0);
    json_error_t jerr;
    json_t *reasons = json_loads (vd_buf_str (&json), 0, &jerr);
    assert (json_is_array (reasons) && json_array_size (reasons) >= 2);
    bool novelty = false;
    for (size_t i = 0; i < json_array_size (reasons); i++) {
        json_t *r = json_array_get (reasons, i);
        assert (json_is_string (json_object_get (r, "text")));
        if (strcmp (json_string_value (json_object_get (r, "signal")), "novelty") == 0) {
            novelty = true;
            assert (strcmp (json_string_value (json_object_get (r, "product_key")), "RIES-2021") ==
                    0);
        }
    }
    assert (novelty);
    json_decref (reasons);
    /* quotes in a product name stay valid JSON */
    reco_item_t quoted = {.product = 2,
                          .score = 1,
                          .nreasons = 1,
                          .reasons = {{RECO_S_REPEAT, 1, -1, -1, 2, 3, today, false}}};
    vd_buf_reset (&json);
    assert (reco_model_reasons_json (m, &quoted, &json) == 0);
    reasons = json_loads (vd_buf_str (&json), 0, &jerr);
    assert (reasons);
    json_decref (reasons);
    /* the inactive customer: win-back on what it bought; c3 may get no email */
    int c2 = reco_model_customer_index (m, "c2");
    assert (reco_model_win_back (m, c2));
    n = reco_model_recommend (m, c2, sc, out);
    assert (n >= 1 && strcmp (reco_model_product_key (m, out[0].product), "PN-2022") == 0);
    assert (out[0].reasons[0].signal == RECO_S_WIN_BACK);
    assert (strcmp (reco_model_campaign_block (m, reco_model_customer_index (m, "c3")),
                    "email_opt_out") == 0);
    assert (reco_model_campaign_block (m, c2) &&
            strcmp (reco_model_campaign_block (m, c2), "no_email") == 0);
    assert (reco_model_campaign_block (m, c1) == NULL);
    assert (reco_model_recommend (m, 99, sc, out) == 0);
    vd_buf_free (&json);
    reco_scratch_destroy (&sc);
    reco_model_destroy (&m);

    /* a bad verdict: the product is gone, its signals weigh half */
    m = reco_model_new ();
    s_test_product (m, "A", "A 2021", "blanc", "standard", "Riesling", 2021, true, 10);
    s_test_product (m, "B", "B 2022", "blanc", "standard", "Riesling", 2022, true, 10);
    s_test_product (m, "C", "C 2022", "blanc", "standard", "Riesling", 2022, true, 10);
    assert (reco_model_add_customer (m, "c", "standard", "c@d.fr", false, false, NULL) == 0);
    assert (reco_model_add_purchase (m, "c", "A", DAY (2024, 1, 1), DAY (2024, 1, 1), 6, 1, 1,
                                     NULL) == 0);
    reco_model_add_bad (m, "c", "B", 1u << RECO_S_TASTE);
    reco_model_add_bad (m, "ghost", "B", 1u << RECO_S_TASTE); /* unknown: ignored */
    assert (reco_model_prepare (m, &params, &err) == 0);
    sc = reco_scratch_new (m);
    n = reco_model_recommend (m, 0, sc, out);
    for (int i = 0; i < n; i++)
        assert (strcmp (reco_model_product_key (m, out[i].product), "B") != 0);
    reco_scratch_destroy (&sc);
    reco_model_destroy (&m);
    reco_model_destroy (&m); /* NULL is fine */
    assert (reco_signal_parse ("copurchase") == RECO_S_COPURCHASE && reco_signal_parse ("x") == -1);
    if (verbose)
        printf (" * reco_model: OK\n");
    return 0;
}
