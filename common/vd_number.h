/*  vd_number - numbers as the sources write them, and exact decimals.

    Money is never a binary float: values travel as canonical decimal
    strings ("-1234.50") and arithmetic uses vd_dec_t, a fixed-point value.
*/
#ifndef VD_NUMBER_H_INCLUDED
#define VD_NUMBER_H_INCLUDED

#include "vd_buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Parses a number written the French way or the plain way into a
    canonical decimal string appended to out: optional '-', digits, and
    '.' + digits when there is a fractional part; no exponent, no '+'.
    Accepted: "1 234,50" (space, NBSP or narrow NBSP thousands), "1234.50",
    "1.234,50", "1,234.50", "12,5 %", "12,50 €", "-3", "+3", "3,".
    When both ',' and '.' appear, the last one is the decimal separator;
    "1.234.567" (dot groups of three) is an integer. Returns 0, or -1 when
    the text is not a number (empty, letters, two signs, "1,2,3"). */
int vd_number_parse (const char *in, size_t len, vd_buf_t *out);

/*  Fixed-point decimal: value = v / 10^scale, 0 <= scale <= 9. */
typedef struct {
    int64_t v;
    int scale;
} vd_dec_t;

/*  Parses a canonical decimal string (as vd_number_parse writes).
    More than 9 fractional digits are rounded half away from zero.
    Returns 0, -1 on syntax error or overflow. */
int vd_dec_parse (const char *s, size_t len, vd_dec_t *out);
/*  Writes d as a canonical decimal string with exactly d.scale fractional
    digits. Returns 0, -1 when size is too small. */
int vd_dec_format (vd_dec_t d, char *out, size_t size);
/*  a op b, result rounded half away from zero to `scale` digits.
    Return 0, -1 on overflow or division by zero. */
int vd_dec_add (vd_dec_t a, vd_dec_t b, vd_dec_t *out);
int vd_dec_sub (vd_dec_t a, vd_dec_t b, vd_dec_t *out);
int vd_dec_mul (vd_dec_t a, vd_dec_t b, int scale, vd_dec_t *out);
int vd_dec_div (vd_dec_t a, vd_dec_t b, int scale, vd_dec_t *out);
/*  -1, 0, 1 as a <, =, > b. */
int vd_dec_cmp (vd_dec_t a, vd_dec_t b);
/*  A vd_dec_t from an integer. */
vd_dec_t vd_dec_int (int64_t v);

/*  Self test (bad input included). Returns 0 when every check passes. */
int vd_number_test (bool verbose);

#endif
