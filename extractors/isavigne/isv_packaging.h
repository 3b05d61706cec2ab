/*  isv_packaging - the packaging of each product of an export (product key
    -> packaging text), read from the export's product file before the
    other files, so that a sales or stock line without a unit can carry its
    product's packaging to the normalizer (input "packaging"), which turns
    it into 75 cl equivalents (vd_packaging). Only readable packagings are
    kept.
*/
#ifndef ISV_PACKAGING_H_INCLUDED
#define ISV_PACKAGING_H_INCLUDED

#include "vendange.h"
#include <czmq.h>

typedef struct isv_packaging isv_packaging_t;

isv_packaging_t *isv_packaging_new (void);
void isv_packaging_destroy (isv_packaging_t **self_p);

/*  Records the packaging of product code (volume text such as "75 cl" or
    "6 x 75 cl"; pack, when the export has a pack size column, makes "6 x
    75 cl" of "75 cl"). Ignored when the code has no key or the packaging
    is unreadable. Returns 0, -1 when out of memory. */
int isv_packaging_add (isv_packaging_t *self, const char *code, size_t code_len, const char *volume,
                       size_t volume_len, const char *pack, size_t pack_len);
/*  The packaging text of product code, NULL when unknown (borrowed). */
const char *isv_packaging_find (isv_packaging_t *self, const char *code, size_t len);
size_t isv_packaging_size (isv_packaging_t *self);
/*  A digest of every (product key, packaging) pair, whatever the order
    they were read in (16 bytes into out): lines that carry a packaging
    are compared again when it changes (isv_lines). */
void isv_packaging_digest (isv_packaging_t *self, uint8_t *out);

int isv_packaging_test (bool verbose);

#endif
