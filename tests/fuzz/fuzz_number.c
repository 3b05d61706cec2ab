/*  fuzz_number - French and plain numbers ("1 234,50", "12,5 %") and the
    exact decimals they become: parse, format, arithmetic. */
#include "vendange.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    vd_buf_t out;
    vd_buf_init (&out, 4096);
    vd_dec_t d, e, r;
    char text[64];
    if (vd_number_parse ((const char *)data, size, &out) == 0 &&
        vd_dec_parse (out.data, out.len, &d) == 0) {
        (void)vd_dec_format (d, text, sizeof text);
        if (vd_dec_parse (text, strlen (text), &e) == 0 && vd_dec_cmp (d, e) != 0)
            abort (); /* formatting then parsing must give the same number */
        (void)vd_dec_add (d, e, &r);
        (void)vd_dec_sub (d, e, &r);
        (void)vd_dec_mul (d, e, 4, &r);
        (void)vd_dec_div (d, vd_dec_int (3), 6, &r);
        (void)vd_dec_div (vd_dec_int (100), d, 6, &r);
    }
    vd_buf_free (&out);
    return 0;
}
