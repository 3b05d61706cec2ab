/*  fuzz_date - dates and instants as the sources write them
    (dd/mm/yyyy, ISO 8601 with offsets and fractions, ...), formatted back
    for PostgreSQL. */
#include "vendange.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    vd_date_t d;
    char out[64];
    if (vd_date_parse ((const char *)data, size, &d) == 0) {
        if (vd_date_format_date (&d, out, sizeof out) < 0 ||
            vd_date_format_instant (&d, "Europe/Paris", out, sizeof out) < 0)
            abort (); /* a valid date always fits 64 bytes */
    }
    double serial;
    if (size == sizeof serial) {
        memcpy (&serial, data, sizeof serial);
        (void)vd_date_from_excel (serial, &d);
    }
    return 0;
}
