/*  reco_model - the recommender's model: products, customers and what
    they bought, read from the canonical tables (reco_load), prepared once
    per run; reco_score scores every eligible product for one customer
    from explainable signals. Pure computation, no I/O: the same code
    serves the service, the one-shot runs and the self test.

    A customer's score for a product is the sum over signals s of
        weight[s] * feedback[customer][s] * value[s](customer, product)
    with each value in 0..1 (README, "Recommendations"):
      taste       attributes (grapes, flavours, category, region, body)
                  shared with what the customer bought, weighted by
                  quantity and recency, and by how specific the attribute
                  is (the share of the catalogue without it)
      budget      share of the customer's purchases in the product's
                  price segment
      copurchase  cosine similarity of the product with one the customer
                  bought, over the customers' baskets
      season      the customer buys this category at this time of year, or
                  the estate sells it most now
      novelty     a newer vintage of a wine the customer bought
      repeat      the customer bought it before (not recently)
      win_back    at_risk / inactive customers: one of their favourites
      popular     bought by many customers in the last year
    Products bought within recent_days, inactive, out of stock or marked
    bad for the customer are never proposed.
*/
#ifndef RECO_MODEL_H_INCLUDED
#define RECO_MODEL_H_INCLUDED

#include "vendange.h"

typedef enum {
    RECO_S_TASTE,
    RECO_S_BUDGET,
    RECO_S_COPURCHASE,
    RECO_S_SEASON,
    RECO_S_NOVELTY,
    RECO_S_REPEAT,
    RECO_S_WIN_BACK,
    RECO_S_POPULAR,
    RECO_S_RANDOM, /* the random baseline only */
    RECO_NSIGNALS
} reco_signal_t;

typedef enum {
    RECO_A_GRAPE,
    RECO_A_FLAVOR,
    RECO_A_CATEGORY,
    RECO_A_REGION,
    RECO_A_BODY,
    RECO_NATTRS
} reco_attr_t;

typedef enum { RECO_MODEL_VENDANGE, RECO_MODEL_POPULARITY, RECO_MODEL_RANDOM } reco_kind_t;

#define RECO_MODEL_VERSION "vendange-1"
#define RECO_MAX_REASONS 4
#define RECO_MAX_TOP 100

typedef struct {
    reco_kind_t kind;
    int top;                    /* recommendations per customer (1..RECO_MAX_TOP) */
    int as_of;                  /* today, in days since 1970-01-01                */
    int recent_days;            /* bought within: not proposed                    */
    double base[RECO_NSIGNALS]; /* base weights (reco_model_defaults)  */
} reco_params_t;

typedef struct {
    reco_signal_t signal;
    double weight; /* its part of the score */
    int attr;      /* reco_attr_t for taste, -1 otherwise */
    int feature;   /* the attribute value (reco_model_feature_name), or -1 */
    int trigger;   /* product index of the purchase behind it, or -1 */
    int count;     /* repeat: times bought; season: month (1..12) */
    int day;       /* repeat / win_back: last bought (days), else 0 */
    bool personal; /* season: the customer's own habit (else the estate's) */
} reco_reason_t;

typedef struct {
    int product;
    double score;
    int nreasons;
    reco_reason_t reasons[RECO_MAX_REASONS]; /* largest weight first */
} reco_item_t;

typedef struct reco_model reco_model_t;

reco_model_t *reco_model_new (void);
void reco_model_destroy (reco_model_t **self_p);

/*  Default parameters and base weights. */
void reco_model_defaults (reco_params_t *params);
const char *reco_signal_name (reco_signal_t s);
/*  The signal of a name, -1 when unknown. */
int reco_signal_parse (const char *name);
const char *reco_attr_name (reco_attr_t a);

/*  Loading. Strings are copied. available: stock on hand summed over
    warehouses, NAN when the product has no stock row. Returns 0, -1 with
    err (out of memory, duplicate key). */
int reco_model_add_product (reco_model_t *self, const char *key, const char *name,
                            const char *category, const char *price_segment,
                            const char *const *grapes, int ngrapes, const char *const *flavors,
                            int nflavors, int vintage, const char *region, const char *body,
                            bool active, double available, vd_error_t *err);
int reco_model_add_customer (reco_model_t *self, const char *key, const char *segment,
                             const char *email, bool email_opt_out, bool email_invalid,
                             vd_error_t *err);
/*  What one customer bought of one product: first and last day, 75 cl
    equivalents, lines, months of the year bought (bit m-1 for month m; they also make the
    estate's seasons).
    A purchase of an unknown customer or product is ignored (returns 0). */
int reco_model_add_purchase (reco_model_t *self, const char *customer, const char *product,
                             int first_day, int last_day, double quantity, int lines,
                             unsigned months, vd_error_t *err);
/*  A bad verdict: the product is never proposed to the customer and each
    signal of mask (bit = reco_signal_t) is halved for them. */
void reco_model_add_bad (reco_model_t *self, const char *customer, const char *product,
                         unsigned signals);
/*  Global factor of a signal from aggregated feedback (README formula). */
void reco_model_set_factor (reco_model_t *self, reco_signal_t s, double factor);

/*  Builds indexes, co-purchase neighbours and popularity. Call once after
    loading and before scoring (reco_score). Returns 0, -1 with err. */
int reco_model_prepare (reco_model_t *self, const reco_params_t *params, vd_error_t *err);

int reco_model_customers (const reco_model_t *self);
int reco_model_products (const reco_model_t *self);
/*  Index of a customer key, -1 when unknown. */
int reco_model_customer_index (const reco_model_t *self, const char *key);
const char *reco_model_customer_key (const reco_model_t *self, int customer);
/*  'email_opt_out', 'email_invalid', 'no_email' or NULL (may receive a
    campaign). */
const char *reco_model_campaign_block (const reco_model_t *self, int customer);
bool reco_model_win_back (const reco_model_t *self, int customer);
const char *reco_model_product_key (const reco_model_t *self, int product);
const char *reco_model_product_name (const reco_model_t *self, int product);
const char *reco_model_feature_name (const reco_model_t *self, int feature);
/*  The weight of each signal in this run (base x global factor). */
double reco_model_weight (const reco_model_t *self, reco_signal_t s);

int reco_model_test (bool verbose);

#endif
