/*  fuzz_units - a unit table file (the connector's unit_table), then
    every line of the input looked up as a unit name. */
#include "vendange.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    vd_units_t *units = vd_units_new ();
    if (!units)
        return 0;
    vd_error_t err;
    vd_error_clear (&err);
    const char *text = (const char *)data;
    (void)vd_units_parse (units, text, size, &err);
    vd_dec_t factor;
    for (size_t at = 0; at < size;) {
        const char *nl = memchr (text + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - text - at) : size - at;
        (void)vd_units_lookup (units, text + at, n, &factor);
        at += n + 1;
    }
    vd_units_destroy (&units);
    return 0;
}
