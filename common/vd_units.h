/*  vd_units - the unit table: unit name -> 75 cl bottle equivalents.

    The table is configuration. Built-in default (SPEC.md): bottle 75 cl = 1,
    demi/half 37.5 cl = 0.5, magnum 150 cl = 2, jeroboam 300 cl = 4,
    case/carton of 6 or 12 = 6 or 12, with the usual spellings (bouteille,
    btl, bt, 75cl, demi, 37,5cl, mag, mag150, magnum, jero, carton6, cs6,
    ct12, caisse12, ...).

    File format: one "name = factor" per line, '#' comments, blank lines
    ignored; factor is a decimal ("0,5" or "0.5").

    Names are compared after folding: accents removed, lower case, and
    spaces, dots, dashes and underscores dropped ("Mag 150" = "mag150",
    "37,5 cl" = "375cl"... see vd_units_key).
*/
#ifndef VD_UNITS_H_INCLUDED
#define VD_UNITS_H_INCLUDED

#include "vd_error.h"
#include "vd_number.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct vd_units vd_units_t;

/*  A table holding the built-in default. NULL when out of memory. */
vd_units_t *vd_units_new (void);
/*  An empty table. */
vd_units_t *vd_units_new_empty (void);
void vd_units_destroy (vd_units_t **self_p);

/*  Adds or replaces one unit. Returns 0, -1 when name folds to nothing. */
int vd_units_set (vd_units_t *self, const char *name, vd_dec_t factor);
/*  Adds the lines of a unit file's text (overriding defaults). Returns 0,
    or -1 with err naming the line (err->line) and the bad text. */
int vd_units_parse (vd_units_t *self, const char *text, size_t len, vd_error_t *err);
/*  Same, from a file path (err->file set). */
int vd_units_load (vd_units_t *self, const char *path, vd_error_t *err);
/*  A unit file's text (malloc'ed), checked: NULL with err naming the
    file and line when it cannot be read or has a bad line. Extractors
    send this text with their records. */
char *vd_units_read_text (const char *path, vd_error_t *err);
/*  Factor for a unit as written in a source. false when unknown or empty. */
bool vd_units_lookup (const vd_units_t *self, const char *unit, size_t len, vd_dec_t *factor);
/*  The folded form of a unit name, appended to out: accents removed,
    lower case, white space, dots, commas, dashes and underscores dropped
    ("Mag 150" -> "mag150", "37,5 cl" -> "375cl"). Returns 0, -1 when the
    name folds to nothing or out would pass its ceiling. */
int vd_units_key (const char *name, size_t len, vd_buf_t *out);
/*  Number of entries. */
size_t vd_units_size (const vd_units_t *self);

/*  Self test (bad input included). Returns 0 when every check passes. */
int vd_units_test (bool verbose);

#endif
