/*  fuzz_json2 - the decoder of Odoo JSON-2 answers; the first byte picks
    the HTTP status the body came with. */
#include "vendange.h"
#include "odoo_json2.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 200, 200, 400, 401, 403, 404, 409, 422, 500, 502, 503};
    if (size == 0)
        return 0;
    long status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
    json_t *result = NULL;
    vd_error_t err;
    vd_error_clear (&err);
    (void)odoo_json2_decode (status, (const char *)data + 1, size - 1, "sale.order.line", &result,
                             &err);
    json_decref (result);
    return 0;
}
