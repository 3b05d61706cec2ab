/*  reco_score - one thread's scoring of customers against a prepared
    reco_model (its scratch space), and the reasons as JSON. */
#include "reco_score.h"
#include "reco_model_impl.h"
#include <jansson.h>
#include <math.h>

/*  Share of each attribute in the taste value (sums to 1). */
static const double s_attr_weight[RECO_NATTRS] = {
    [RECO_A_GRAPE] = 0.35,  [RECO_A_FLAVOR] = 0.15, [RECO_A_CATEGORY] = 0.25,
    [RECO_A_REGION] = 0.15, [RECO_A_BODY] = 0.10,
};

static const char *const s_segment_text[] = {"under 15 EUR incl. VAT", "15 to 30 EUR incl. VAT",
                                             "30 to 75 EUR incl. VAT", "75 EUR incl. VAT and more"};

static const char *const s_months[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

#define MIN_REASON 0.005 /* smaller parts of a score are not reasons     */

struct reco_score {
    const reco_model_t *model;
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
    Scoring */

reco_score_t *
reco_score_new (const reco_model_t *model)
{
    reco_score_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->model = model;
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
        reco_score_destroy (&self);
    return self;
}

void
reco_score_destroy (reco_score_t **self_p)
{
    reco_score_t *self = self_p ? *self_p : NULL;
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
    const reco_customer_t *customer;
    int index;
    double total;                   /* sum of purchase weights */
    double max_weight;              /* of one purchase */
    double segment[RECO_NSEGMENTS]; /* weights by price segment */
    double feedback[RECO_NSIGNALS];
} s_profile_t;

static double
s_purchase_weight (const reco_model_t *self, const reco_purchase_t *pu)
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
s_profile (const reco_model_t *self, int customer, reco_score_t *sc, s_profile_t *pr)
{
    memset (pr, 0, sizeof *pr);
    pr->customer = &self->customers[customer];
    pr->index = customer;
    for (int s = 0; s < RECO_NSIGNALS; s++)
        pr->feedback[s] = 1.0;
    const reco_customer_t *c = pr->customer;
    for (int b = c->bad_first; b < c->bad_first + c->nbad; b++)
        for (int s = 0; s < RECO_NSIGNALS; s++)
            if (self->bad[b].signals & (1u << s))
                pr->feedback[s] *= 0.5;
    for (int k = c->first; k < c->first + c->n; k++) {
        const reco_purchase_t *pu = &self->purchases[k];
        const reco_product_t *p = &self->products[pu->product];
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
        const reco_neighbour_t *nb = &self->neighbours[(size_t)from * NEIGHBOURS];
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
s_clear (reco_score_t *sc)
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
s_score (const reco_model_t *self, const s_profile_t *pr, const reco_score_t *sc, int p,
         reco_item_t *item)
{
    const reco_product_t *prod = &self->products[p];
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
            const reco_purchase_t *pu = &self->purchases[sc->bought[p] - 1];
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
s_excluded (const reco_model_t *self, const s_profile_t *pr, const reco_score_t *sc, int p)
{
    if (!self->products[p].eligible)
        return true;
    if (sc->bought[p] > 0 &&
        self->purchases[sc->bought[p] - 1].last_day > self->params.as_of - self->params.recent_days)
        return true;
    const reco_customer_t *c = pr->customer;
    for (int b = c->bad_first; b < c->bad_first + c->nbad; b++)
        if (self->bad[b].product == p)
            return true;
    return false;
}

int
reco_score_recommend (reco_score_t *sc, int customer, reco_item_t *out)
{
    const reco_model_t *self = sc->model;
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
                           r->attr == RECO_A_FLAVOR ? "notes of" : reco_attr_name (r->attr), value);
        else if (r->attr == RECO_A_FLAVOR)
            vd_buf_printf (t, "%s notes, like %s that you bought", value, trigger);
        else if (r->attr == RECO_A_CATEGORY)
            vd_buf_printf (t, "a %s, like %s that you bought", value, trigger);
        else
            vd_buf_printf (t, "%s %s, like %s that you bought", reco_attr_name (r->attr), value,
                           trigger);
        break;
    case RECO_S_BUDGET: {
        int seg = self->products[item->product].seg;
        vd_buf_printf (t, "in your usual price range (%s, %s)", reco_segment_names[seg],
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
reco_score_reasons_json (const reco_model_t *self, const reco_item_t *item, vd_buf_t *out)
{
    vd_buf_t text;
    vd_buf_init (&text, 4096);
    int rc = vd_buf_addc (out, '[');
    for (int i = 0; rc == 0 && i < item->nreasons; i++) {
        const reco_reason_t *r = &item->reasons[i];
        const char *value = r->signal == RECO_S_BUDGET
                                ? reco_segment_names[self->products[item->product].seg]
                                : reco_model_feature_name (self, r->feature);
        vd_buf_reset (&text);
        s_text (self, item, r, &text);
        const char *attr = r->signal == RECO_S_BUDGET ? "price_segment"
                           : r->attr >= 0             ? reco_attr_name (r->attr)
                                                      : NULL;
        rc =
            vd_buf_printf (out, "%s{\"signal\":\"%s\",\"weight\":%.4f,\"attribute\":", i ? "," : "",
                           reco_signal_name (r->signal), r->weight);
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
reco_score_test (bool verbose)
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
    assert (reco_model_add_customer (m, "c1", "standard", "a@b.fr", false, false, NULL) == 0);
    assert (reco_model_add_customer (m, "c2", "inactive", NULL, false, false, NULL) == 0);
    assert (reco_model_add_customer (m, "c3", "standard", "c@d.fr", true, false, NULL) == 0);
    int today = DAY (2026, 11, 20);
    assert (reco_model_add_purchase (m, "c1", "RIES-2021", DAY (2025, 1, 10), DAY (2025, 6, 1), 12,
                                     2, 0x21, NULL) == 0);
    assert (reco_model_add_purchase (m, "c1", "CREM", DAY (2026, 11, 1), DAY (2026, 11, 1), 6, 1,
                                     0x400, NULL) == 0);
    assert (reco_model_add_purchase (m, "c2", "PN-2022", DAY (2023, 1, 1), DAY (2023, 1, 1), 6, 1,
                                     0x1, NULL) == 0);
    reco_params_t params;
    reco_model_defaults (&params);
    params.as_of = today;
    params.top = 3;
    assert (reco_model_prepare (m, &params, &err) == 0);
    reco_score_t *sc = reco_score_new (m);
    assert (sc);
    reco_item_t out[RECO_MAX_TOP];
    int c1 = reco_model_customer_index (m, "c1");
    int n = reco_score_recommend (sc, c1, out);
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
    assert (reco_score_reasons_json (m, &out[0], &json) == 0);
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
    assert (reco_score_reasons_json (m, &quoted, &json) == 0);
    reasons = json_loads (vd_buf_str (&json), 0, &jerr);
    assert (reasons);
    json_decref (reasons);
    /* the inactive customer: win-back on what it bought */
    int c2 = reco_model_customer_index (m, "c2");
    n = reco_score_recommend (sc, c2, out);
    assert (n >= 1 && strcmp (reco_model_product_key (m, out[0].product), "PN-2022") == 0);
    assert (out[0].reasons[0].signal == RECO_S_WIN_BACK);
    assert (reco_score_recommend (sc, 99, out) == 0);
    vd_buf_free (&json);
    reco_score_destroy (&sc);
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
    sc = reco_score_new (m);
    n = reco_score_recommend (sc, 0, out);
    for (int i = 0; i < n; i++)
        assert (strcmp (reco_model_product_key (m, out[i].product), "B") != 0);
    reco_score_destroy (&sc);
    reco_model_destroy (&m);
    if (verbose)
        printf (" * reco_score: OK\n");
    return 0;
}
