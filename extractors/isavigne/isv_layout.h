/*  isv_layout - the column layout of an export file: the set of its
    header's column names after the column-name rule (vd_text_column_name),
    sorted, without blanks or repeats; order does not matter. The first
    layout a file shows is accepted and kept with the connector's cursor
    ("layouts": {file: [names]}); a file whose layout differs from the
    accepted one is not read (its changes go to "pending_layouts" until
    `vendange connector accept-layout` accepts them).
*/
#ifndef ISV_LAYOUT_H_INCLUDED
#define ISV_LAYOUT_H_INCLUDED

#include "vendange.h"
#include <jansson.h>

/*  The layout of a header of n normalized names (blanks skipped): a new
    JSON array of sorted, distinct strings, the caller's. NULL when out of
    memory. */
json_t *isv_layout_of (const char *const *names, size_t n);

/*  Compares layout seen with accepted (both arrays of strings, as
    isv_layout_of makes them; accepted NULL: nothing accepted yet).
    Returns 0 when they are the same (or nothing is accepted), 1 when they
    differ: *added gets the names of seen not in accepted, *missing those
    of accepted not in seen (new arrays, the caller's); -1 when out of
    memory. */
int isv_layout_compare (const json_t *seen, const json_t *accepted, json_t **added,
                        json_t **missing);

/*  "missing mt_ht; added montant_ht": the changes as text, at most size
    bytes into out (truncated with "..."). */
void isv_layout_describe (const json_t *added, const json_t *missing, char *out, size_t size);

int isv_layout_test (bool verbose);

#endif
