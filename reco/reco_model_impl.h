/*  reco_model_impl - the model's data, shared by reco_model (loading,
    preparation) and reco_score (scoring): not for other files. */
#ifndef RECO_MODEL_IMPL_H_INCLUDED
#define RECO_MODEL_IMPL_H_INCLUDED

#include "reco_model.h"
#include <czmq.h>

#define NEIGHBOURS 30        /* co-purchase neighbours kept per product       */
#define BASKET_CAP 60        /* purchases of one customer used for co-purchase */
#define HALF_LIFE_DAYS 540.0 /* a purchase's weight halves with this age     */
#define RECO_NSEGMENTS 4

/*  Price segments by index: entry, standard, premium, luxury. */
extern const char *const reco_segment_names[RECO_NSEGMENTS];

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
} reco_product_t;

typedef struct {
    char *key;
    const char *block; /* campaign block, static string or NULL */
    bool win_back;
    int first, n; /* its purchases */
    int bad_first, nbad;
} reco_customer_t;

typedef struct {
    int customer, product;
    int first_day, last_day, lines;
    float quantity;
    unsigned months;
} reco_purchase_t;

typedef struct {
    int customer, product;
    unsigned signals;
} reco_bad_t;

typedef struct {
    int product;
    float sim;
} reco_neighbour_t;

struct reco_model {
    reco_params_t params;
    double factor[RECO_NSIGNALS];
    double weight[RECO_NSIGNALS];
    reco_product_t *products;
    int nproducts, products_cap;
    reco_customer_t *customers;
    int ncustomers, customers_cap;
    reco_purchase_t *purchases;
    int npurchases, purchases_cap;
    reco_bad_t *bad;
    int nbad, bad_cap;
    int *pfeat; /* product features, by product */
    int npfeat, pfeat_cap;
    char **features; /* value of each feature */
    int *feature_attr;
    double *specificity; /* share of the products without the feature */
    int nfeatures, features_cap;
    int nfamilies;
    zhashx_t *product_index, *customer_index, *feature_index, *family_index;
    reco_neighbour_t *neighbours; /* NEIGHBOURS per product */
    int *nneighbours;
    bool any_stock;
    unsigned window; /* months of the season window (bit m-1) */
    int month;       /* as_of's month, 1..12 */
    bool prepared;
};

#endif
