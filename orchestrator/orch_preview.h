/*  orch_preview - the mapping page's preview: the RAW messages an
    extractor read from the first rows of each export file (a connector
    test with "preview"), run through the normalizer's rules (libnorm,
    norm_batch) without loading anything, into rows the page shows: the
    fields as read, the canonical values, the warnings, the reject.
*/
#ifndef ORCH_PREVIEW_H_INCLUDED
#define ORCH_PREVIEW_H_INCLUDED

#include "vendange.h"
#include <jansson.h>

typedef struct norm_batch norm_batch_t;

/*  Replaces, in every entry of result's "preview" array, the base64 RAW
    message ("raw") by "inputs" (the normalizer input fed by each column)
    and "rows": [{"line", "fields": [...], "values": [[column, value], ...] in schema order or
    "reject": reason, "warnings": [{"field", "reason", "raw"}]}]. An entry
    whose message cannot be read gets an "error". Returns 0. */
int orch_preview_normalize (norm_batch_t *nb, json_t *result);

int orch_preview_test (bool verbose);

#endif
