/*  reco_score - scores customers against a prepared reco_model: the
    signals and the formula are described in reco_model.h. One reco_score
    per thread (it is the scratch space of one customer at a time); the
    model is only read, so several threads share it.
*/
#ifndef RECO_SCORE_H_INCLUDED
#define RECO_SCORE_H_INCLUDED

#include "reco_model.h"

typedef struct reco_score reco_score_t;

/*  For a prepared model (which must outlive it). NULL when out of memory. */
reco_score_t *reco_score_new (const reco_model_t *model);
void reco_score_destroy (reco_score_t **self_p);

/*  The top recommendations of a customer into out (the model's top
    entries at most), best first. Returns how many. */
int reco_score_recommend (reco_score_t *self, int customer, reco_item_t *out);

/*  Appends the reasons of item as a JSON array (the reco.recommendations
    column) to out. Returns 0, -1 when the buffer is full. */
int reco_score_reasons_json (const reco_model_t *model, const reco_item_t *item, vd_buf_t *out);

int reco_score_test (bool verbose);

#endif
