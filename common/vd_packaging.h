/*  vd_packaging - a product's packaging as exports write it ("75 cl",
    "6 x 75 cl", "12x75cl", "150 cl", "37,5 cl", "0,75 L", "Magnum"): the
    volume of one bottle and the number of bottles in the pack.

    One reading for every caller: the normalizer's volume_cl and pack_size
    of a product, and the 75 cl equivalents of a line that has no unit of
    its own but whose product has a packaging.
*/
#ifndef VD_PACKAGING_H_INCLUDED
#define VD_PACKAGING_H_INCLUDED

#include "vd_number.h"
#include <stdbool.h>
#include <stddef.h>

/*  Reads text[0..len): *volume_cl the volume of one bottle in cl ("6 x 75
    cl" -> 75; a number without unit is litres up to 10, else cl; "ml",
    "cl", "l"; magnum 150, jeroboam 300, demi and fillette 37.5, bouteille
    75), *pack the bottles in the pack (the N of "N x ...", 1..10000, else
    1). Returns 1, 0 when the text is empty, -1 when unreadable. */
int vd_packaging_parse (const char *text, size_t len, vd_dec_t *volume_cl, vd_dec_t *pack);

/*  75 cl equivalents of one unit of that packaging: pack x volume / 75
    ("6 x 75 cl" -> 6, "150 cl" -> 2, "37,5 cl" -> 0.5), without trailing
    zeros. Returns 1, 0 when empty, -1 when unreadable. */
int vd_packaging_bottles (const char *text, size_t len, vd_dec_t *factor);

int vd_packaging_test (bool verbose);

#endif
