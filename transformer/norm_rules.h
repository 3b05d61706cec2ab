/*  norm_rules - one function per vd_rule_t: a column's value from a raw
    record's input fields. No per-table code: the schema table says which
    rule and which inputs each column uses.
*/
#ifndef NORM_RULES_H_INCLUDED
#define NORM_RULES_H_INCLUDED

#include "vendange.h"
#include <jansson.h>

#define NORM_MAX_FIELD (64 * 1024) /* bytes of one normalised value */

typedef enum { NORM_NULL, NORM_STR, NORM_BOOL, NORM_LIST } norm_kind_t;

/*  One computed value. List items are stored in str separated by '\0'
    (nitems of them). */
typedef struct {
    norm_kind_t kind;
    bool boolean;
    size_t nitems;
    vd_buf_t str;
} norm_value_t;

/*  The decimals parsed from a record's input texts (a text is an input of
    several columns: a quantity, of the quantity, the bottles and the line
    total); emptied (n = 0) before each record. */
#define NORM_DEC_CACHE 16
typedef struct {
    const char *text[NORM_DEC_CACHE];
    size_t len[NORM_DEC_CACHE];
    int rc[NORM_DEC_CACHE];
    vd_dec_t value[NORM_DEC_CACHE];
    int n;
} norm_decs_t;

/*  What a rule sees: the run context and the record's inputs. */
typedef struct {
    const char *source;    /* "isavigne"                              */
    const char *connector; /* the run's connector ("isv_main")        */
    const vd_units_t *units;
    vd_dec_t vat_factor; /* 1 + rate, e.g. 1.20                     */
    const char *tz;      /* "Europe/Paris"                          */
    /* the record */
    const char *const *in; /* in[i]: input i of the column, NULL when
                              absent; in_len[i] its length            */
    const size_t *in_len;
    const norm_value_t *source_id; /* computed before any other column  */
    vd_buf_t *scratch;
    norm_decs_t *decs; /* the record's decimals parsed so far, NULL: none kept */
} norm_input_t;

typedef enum {
    NORM_OK, /* value set (possibly NORM_NULL)                       */
    NORM_BAD /* unusable: the reason is in *reason, the raw value is
                in[0] (or the input named in *bad_input)            */
} norm_result_t;

/*  Computes one column. On NORM_BAD, *reason is a static string and
 *bad_input the index of the offending input. */
norm_result_t norm_rule_apply (vd_rule_t rule, const norm_input_t *ctx, norm_value_t *out,
                               const char **reason, int *bad_input);

/*  The product key of a code: normalised code, else NULL value. */
int norm_product_key (const char *code, size_t len, norm_value_t *out);

void norm_value_init (norm_value_t *v);
void norm_value_free (norm_value_t *v);
void norm_value_set_null (norm_value_t *v);
int norm_value_set_str (norm_value_t *v, const char *s, size_t len);

#endif
