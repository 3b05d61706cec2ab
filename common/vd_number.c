/*  vd_number - numbers as the sources write them, and exact decimals.

    vd_number_parse reads a number in two passes over its body (the text
    without white space, sign and a trailing '%' or euro sign): the first
    counts the separators and decides which one is the decimal point, the
    second checks the thousands groups and writes the canonical digits.

    vd_dec_t arithmetic works in 128-bit intermediates, so a product or a
    scaled dividend cannot overflow before it is rounded back to 64 bits.
*/
#include "vendange.h"

__extension__ typedef __int128 s_wide_t;

#define S_SCALE_MAX 9

//  --------------------------------------------------------------------------
//  Parsing numbers as written

typedef struct {
    size_t digits, spaces, dots, commas;
    size_t last_dot, last_comma; //  position + 1, 0 when none
} s_seps_t;

//  Kind of the body character at s: '0' for a digit, ' ' for a thousands
//  space (ASCII space or a Unicode space), '.', ',', or 0 for anything
//  else; *width is its length in bytes.
static char
s_kind (const char *s, size_t len, size_t *width)
{
    *width = 1;
    if (*s >= '0' && *s <= '9')
        return '0';
    if (*s == '.' || *s == ',' || *s == ' ')
        return *s;
    size_t n = (unsigned char)*s >= 0x80 ? vd_text_space_len (s, len) : 0;
    *width = n ? n : 1;
    return n ? ' ' : 0;
}

//  Trims white space, a leading sign and one trailing '%' or euro sign.
//  Returns -1 on two signs.
static int
s_body (const char *in, size_t len, size_t *b, size_t *e, bool *neg)
{
    size_t i, unit = 0;
    vd_text_trim (in, len, &i, &len);
    if (len > i && in[len - 1] == '%')
        unit = 1;
    else if (len - i >= 3 && memcmp (in + len - 3, "\xE2\x82\xAC", 3) == 0)
        unit = 3;
    if (unit) {
        vd_text_trim (in + i, len - i - unit, b, e);
        len = i + *e;
    }
    *neg = i < len && in[i] == '-';
    if (i < len && (in[i] == '-' || in[i] == '+'))
        i++;
    *b = i;
    *e = len;
    return i < len && (in[i] == '-' || in[i] == '+') ? -1 : 0;
}

static int
s_count (const char *s, size_t len, s_seps_t *seps)
{
    memset (seps, 0, sizeof *seps);
    size_t i = 0, w;
    while (i < len) {
        char k = s_kind (s + i, len - i, &w);
        if (k == 0)
            return -1;
        seps->digits += k == '0';
        seps->spaces += k == ' ';
        if (k == '.') {
            seps->dots++;
            seps->last_dot = i + 1;
        }
        if (k == ',') {
            seps->commas++;
            seps->last_comma = i + 1;
        }
        i += w;
    }
    return seps->digits ? 0 : -1;
}

//  Decides the decimal point (*dec: position + 1, 0 when none) and the
//  thousands separator (*thou: ' ', '.', ',' or 0). -1 when ambiguous.
static int
s_decide (const s_seps_t *p, size_t *dec, char *thou)
{
    *dec = 0;
    *thou = p->spaces ? ' ' : 0;
    if (p->dots && p->commas) {
        bool dot = p->last_dot > p->last_comma;
        *dec = dot ? p->last_dot : p->last_comma;
        *thou = dot ? ',' : '.';
        return (dot ? p->dots : p->commas) == 1 && !p->spaces ? 0 : -1;
    }
    size_t count = p->dots + p->commas;
    if (count == 1)
        *dec = p->dots ? p->last_dot : p->last_comma;
    else if (count > 1) {
        *thou = p->dots ? '.' : ',';
        return p->spaces ? -1 : 0;
    }
    return 0;
}

//  Checks the integer part s[0..len) (groups of three after the first when
//  thou is set) and appends its digits without leading zeros.
static int
s_integer (const char *s, size_t len, char thou, vd_buf_t *out, bool *zero)
{
    size_t i = 0, w, group = 0, groups = 0, n = 0;
    char digits[64];
    *zero = true;
    while (i < len) {
        char k = s_kind (s + i, len - i, &w);
        if (k == '0') {
            group++;
            *zero = *zero && s[i] == '0';
            if (!*zero)
                digits[n++] = s[i];
            if (n == sizeof digits && vd_buf_add (out, digits, n))
                return -1;
            n = n == sizeof digits ? 0 : n;
        } else if (k != thou || group == 0 || group > 3 || (groups && group != 3))
            return -1;
        else {
            groups++;
            group = 0;
        }
        i += w;
    }
    return (groups && group != 3) || vd_buf_add (out, digits, n) ? -1 : 0;
}

int
vd_number_parse (const char *in, size_t len, vd_buf_t *out)
{
    size_t b, e, dec, start = out->len;
    bool neg, zero;
    char thou;
    s_seps_t seps;
    if (s_body (in, len, &b, &e, &neg) || s_count (in + b, e - b, &seps) ||
        s_decide (&seps, &dec, &thou))
        return -1;
    size_t int_end = dec ? b + dec - 1 : e;
    const char *frac = in + int_end + 1;
    size_t frac_len = dec ? e - int_end - 1 : 0;
    for (size_t i = 0; i < frac_len; i++)
        if (frac[i] < '0' || frac[i] > '9')
            return -1;
    if (neg && vd_buf_addc (out, '-'))
        return -1;
    size_t digits_at = out->len;
    if (s_integer (in + b, int_end - b, thou, out, &zero))
        goto fail;
    if (zero && vd_buf_addc (out, '0'))
        goto fail;
    bool all_zero = zero;
    for (size_t i = 0; i < frac_len; i++)
        all_zero = all_zero && frac[i] == '0';
    if (frac_len && (vd_buf_addc (out, '.') || vd_buf_add (out, frac, frac_len)))
        goto fail;
    if (neg && all_zero) {
        memmove (out->data + start, out->data + digits_at, out->len - digits_at + 1);
        out->len -= 1;
    }
    return 0;
fail:
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return -1;
}

//  --------------------------------------------------------------------------
//  Fixed-point decimals

static const int64_t s_pow10[19] = {1,
                                    10,
                                    100,
                                    1000,
                                    10000,
                                    100000,
                                    1000000,
                                    10000000,
                                    100000000,
                                    1000000000,
                                    10000000000,
                                    100000000000,
                                    1000000000000,
                                    10000000000000,
                                    100000000000000,
                                    1000000000000000,
                                    10000000000000000,
                                    100000000000000000,
                                    1000000000000000000};

static bool
s_scale_ok (int scale)
{
    return scale >= 0 && scale <= S_SCALE_MAX;
}

static int
s_narrow (s_wide_t w, int scale, vd_dec_t *out)
{
    if (w > INT64_MAX || w < INT64_MIN)
        return -1;
    out->v = (int64_t)w;
    out->scale = scale;
    return 0;
}

//  num / den rounded half away from zero; den != 0.
static s_wide_t
s_div_round (s_wide_t num, s_wide_t den)
{
    s_wide_t q = num / den, r = num % den;
    s_wide_t abs_r = r < 0 ? -r : r, abs_den = den < 0 ? -den : den;
    if (2 * abs_r >= abs_den)
        q += (num < 0) == (den < 0) ? 1 : -1;
    return q;
}

int
vd_dec_parse (const char *s, size_t len, vd_dec_t *out)
{
    size_t i = len && s[0] == '-' ? 1 : 0, digits = 0;
    bool dot = false;
    int scale = 0, dropped = -1;
    s_wide_t v = 0;
    for (; i < len; i++) {
        if (s[i] == '.' && !dot && digits) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return -1;
        digits++;
        if (dot && scale == S_SCALE_MAX) {
            dropped = dropped < 0 ? s[i] - '0' : dropped;
            continue;
        }
        v = v * 10 + (s[i] - '0');
        scale += dot;
        if (v > INT64_MAX)
            return -1;
    }
    if (!digits || s[len - 1] == '.')
        return -1;
    v += dropped >= 5;
    return s_narrow (len && s[0] == '-' ? -v : v, scale, out);
}

int
vd_dec_format (vd_dec_t d, char *out, size_t size)
{
    if (!s_scale_ok (d.scale))
        return -1;
    uint64_t mag = d.v < 0 ? (uint64_t)0 - (uint64_t)d.v : (uint64_t)d.v;
    //  digits written backwards (a hot path: no snprintf), the fraction
    //  padded with zeros to the scale, at least one digit before the point
    char tmp[48]; //  "-9223372036854775808" and a point at most
    size_t n = 0;
    for (int i = 0; i < d.scale; i++, mag /= 10)
        tmp[n++] = (char)('0' + mag % 10);
    if (d.scale)
        tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (d.v < 0)
        tmp[n++] = '-';
    if (n >= size)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return 0;
}

int
vd_dec_add (vd_dec_t a, vd_dec_t b, vd_dec_t *out)
{
    if (!s_scale_ok (a.scale) || !s_scale_ok (b.scale))
        return -1;
    int scale = a.scale > b.scale ? a.scale : b.scale;
    s_wide_t sum =
        (s_wide_t)a.v * s_pow10[scale - a.scale] + (s_wide_t)b.v * s_pow10[scale - b.scale];
    return s_narrow (sum, scale, out);
}

int
vd_dec_sub (vd_dec_t a, vd_dec_t b, vd_dec_t *out)
{
    if (!s_scale_ok (a.scale) || !s_scale_ok (b.scale))
        return -1;
    int scale = a.scale > b.scale ? a.scale : b.scale;
    s_wide_t diff =
        (s_wide_t)a.v * s_pow10[scale - a.scale] - (s_wide_t)b.v * s_pow10[scale - b.scale];
    return s_narrow (diff, scale, out);
}

int
vd_dec_mul (vd_dec_t a, vd_dec_t b, int scale, vd_dec_t *out)
{
    if (!s_scale_ok (a.scale) || !s_scale_ok (b.scale) || !s_scale_ok (scale))
        return -1;
    s_wide_t p = (s_wide_t)a.v * b.v;
    int from = a.scale + b.scale;
    if (scale < from)
        return s_narrow (s_div_round (p, s_pow10[from - scale]), scale, out);
    if (p > INT64_MAX || p < INT64_MIN)
        return -1;
    return s_narrow (p * s_pow10[scale - from], scale, out);
}

int
vd_dec_div (vd_dec_t a, vd_dec_t b, int scale, vd_dec_t *out)
{
    if (!s_scale_ok (a.scale) || !s_scale_ok (b.scale) || !s_scale_ok (scale) || b.v == 0)
        return -1;
    int e = scale + b.scale - a.scale; //  -9 .. 18
    s_wide_t num = a.v, den = b.v;
    if (e >= 0)
        num *= s_pow10[e];
    else
        den *= s_pow10[-e];
    return s_narrow (s_div_round (num, den), scale, out);
}

int
vd_dec_cmp (vd_dec_t a, vd_dec_t b)
{
    assert (s_scale_ok (a.scale) && s_scale_ok (b.scale));
    int sa = s_scale_ok (a.scale) ? a.scale : 0, sb = s_scale_ok (b.scale) ? b.scale : 0;
    int scale = sa > sb ? sa : sb;
    s_wide_t x = (s_wide_t)a.v * s_pow10[scale - sa];
    s_wide_t y = (s_wide_t)b.v * s_pow10[scale - sb];
    return x < y ? -1 : x > y ? 1 : 0;
}

vd_dec_t
vd_dec_int (int64_t v)
{
    vd_dec_t d = {v, 0};
    return d;
}

//  --------------------------------------------------------------------------
//  Self test

static int
s_check (bool verbose, const char *name, const char *in, bool ok)
{
    if (!ok)
        fprintf (stderr, "vd_number: FAIL %s (\"%s\")\n", name, in);
    else if (verbose)
        printf ("vd_number: ok %s (\"%s\")\n", name, in);
    return ok ? 0 : 1;
}

//  vd_number_parse (in) gives want, or -1 with nothing appended (want NULL).
static int
s_expect (bool verbose, const char *in, const char *want)
{
    vd_buf_t b;
    vd_buf_init (&b, 64);
    int rc = vd_number_parse (in, strlen (in), &b);
    bool ok = want ? rc == 0 && strcmp (vd_buf_str (&b), want) == 0 : rc == -1 && b.len == 0;
    if (!ok)
        fprintf (stderr, "vd_number: FAIL parse (\"%s\"): rc=%d got \"%s\" want \"%s\"\n", in, rc,
                 vd_buf_str (&b), want ? want : "(error)");
    else if (verbose)
        printf ("vd_number: ok parse (\"%s\") -> \"%s\"\n", in, vd_buf_str (&b));
    vd_buf_free (&b);
    return ok ? 0 : 1;
}

static int
s_test_parse (bool verbose)
{
    // clang-format off
    static const char *cases[][2] = {
        {"1 234,50", "1234.50"}, {"1\xC2\xA0" "234,50", "1234.50"},
        {"1\xE2\x80\xAF" "234,50", "1234.50"}, {"1234.50", "1234.50"},
        {"12,5 %", "12.5"}, {"1.234,50", "1234.50"}, {"1,234.50", "1234.50"},
        {"-3", "-3"}, {"+3", "3"}, {"3,", "3"}, {"12,50 \xE2\x82\xAC", "12.50"},
        {"1.234.567", "1234567"}, {"1,234,567.8", "1234567.8"},
        {" 1 234 567,89\xC2\xA0", "1234567.89"}, {"0,00", "0.00"}, {"-0,00", "0.00"},
        {"-0,5", "-0.5"}, {"007", "7"}, {",5", "0.5"}, {"12%", "12"},
        {"abc", NULL}, {"", NULL}, {"  ", NULL}, {"1,2,3", NULL}, {"--1", NULL},
        {"+-1", NULL}, {"1e5", NULL}, {"- 3", NULL}, {"1.2.3", NULL},
        {"12 5", NULL}, {"1 234.567.890", NULL}, {"1.23,5", NULL},
        {"1,234.5,6", NULL}, {"1 234,5 6", NULL}, {",", NULL}, {"%", NULL},
        {"12 %%", NULL}, {"3-", NULL}, {"1\xFF", NULL},
    };
    // clang-format on
    int f = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        f += s_expect (verbose, cases[i][0], cases[i][1]);
    vd_buf_t b;
    vd_buf_init (&b, 3);
    f += s_check (verbose, "parse ceiling", "1234",
                  vd_number_parse ("1234", 4, &b) == -1 && b.len == 0);
    f += s_check (verbose, "parse not NUL-terminated", "1,500",
                  vd_number_parse ("1,500", 3, &b) == 0 && strcmp (vd_buf_str (&b), "1.5") == 0);
    vd_buf_free (&b);
    return f;
}

//  a op b at scale gives want ("-1" for an error).
static int
s_expect_op (bool verbose, char op, const char *a, const char *b, int scale, const char *want)
{
    vd_dec_t x, y, r = {0, 0};
    char got[32] = "-1";
    int rc = vd_dec_parse (a, strlen (a), &x) | vd_dec_parse (b, strlen (b), &y);
    if (rc == 0)
        rc = op == '+'   ? vd_dec_add (x, y, &r)
             : op == '-' ? vd_dec_sub (x, y, &r)
             : op == '*' ? vd_dec_mul (x, y, scale, &r)
                         : vd_dec_div (x, y, scale, &r);
    if (rc == 0 && vd_dec_format (r, got, sizeof got))
        snprintf (got, sizeof got, "format failed");
    bool ok = strcmp (got, want) == 0;
    if (!ok)
        fprintf (stderr, "vd_number: FAIL %s %c %s (scale %d): got %s want %s\n", a, op, b, scale,
                 got, want);
    else if (verbose)
        printf ("vd_number: ok %s %c %s (scale %d) = %s\n", a, op, b, scale, got);
    return ok ? 0 : 1;
}

static int
s_test_dec (bool verbose)
{
    int f = s_expect_op (verbose, '/', "24.00", "1.2", 2, "20.00");
    f += s_expect_op (verbose, '/', "10", "3", 4, "3.3333");
    f += s_expect_op (verbose, '/', "2", "3", 2, "0.67");
    f += s_expect_op (verbose, '/', "-2", "3", 2, "-0.67");
    f += s_expect_op (verbose, '/', "2", "-3", 2, "-0.67");
    f += s_expect_op (verbose, '/', "1", "0", 2, "-1");
    f += s_expect_op (verbose, '/', "9223372036854775807", "0.1", 0, "-1");
    f += s_expect_op (verbose, '/', "1", "8", 2, "0.13");
    f += s_expect_op (verbose, '/', "1.234567891", "1000", 9, "0.001234568");
    f += s_expect_op (verbose, '*', "12.50", "0.2", 2, "2.50");
    f += s_expect_op (verbose, '*', "0.125", "1", 2, "0.13");
    f += s_expect_op (verbose, '*', "-0.125", "1", 2, "-0.13");
    f += s_expect_op (verbose, '*', "3", "7", 2, "21.00");
    f += s_expect_op (verbose, '*', "123456789.123456789", "1.000000000", 9, "123456789.123456789");
    f += s_expect_op (verbose, '*', "9223372036854775807", "2", 0, "-1");
    f += s_expect_op (verbose, '*', "4611686018427387904", "4611686018427387904", 9, "-1");
    f += s_expect_op (verbose, '+', "1.5", "2.25", 0, "3.75");
    f += s_expect_op (verbose, '+', "9223372036854775807", "1", 0, "-1");
    f += s_expect_op (verbose, '-', "1.5", "2.25", 0, "-0.75");
    f += s_expect_op (verbose, '-', "-9223372036854775807", "2", 0, "-1");
    f += s_expect_op (verbose, '+', "0.1234567894", "0", 0, "0.123456789");
    f += s_expect_op (verbose, '+', "0.1234567895", "0", 0, "0.123456790");
    f += s_expect_op (verbose, '+', "-0.0000000005", "0", 0, "-0.000000001");
    static const char *bad[] = {
        "", "-", "1.", ".5", "1.2.3", "+1", " 1", "1e5", "92233720368547758070", "1,5"};
    vd_dec_t d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        f += s_check (verbose, "dec_parse rejects", bad[i],
                      vd_dec_parse (bad[i], strlen (bad[i]), &d) == -1);
    char small[4];
    f += s_check (verbose, "format too small", "12.50",
                  vd_dec_format ((vd_dec_t){1250, 2}, small, sizeof small) == -1);
    f += s_check (verbose, "format min", "INT64_MIN",
                  vd_dec_format ((vd_dec_t){INT64_MIN, 0}, small, sizeof small) == -1);
    static const struct {
        vd_dec_t d;
        const char *want;
    } formats[] = {{{0, 0}, "0"},
                   {{-5, 2}, "-0.05"},
                   {{1250, 2}, "12.50"},
                   {{7, 9}, "0.000000007"},
                   {{-120, 0}, "-120"},
                   {{INT64_MIN, 0}, "-9223372036854775808"},
                   {{INT64_MAX, 9}, "9223372036.854775807"}};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char text[32];
        f += s_check (verbose, "format", formats[i].want,
                      vd_dec_format (formats[i].d, text, sizeof text) == 0 &&
                          strcmp (text, formats[i].want) == 0);
    }
    f += s_check (verbose, "bad scale", "10",
                  vd_dec_add ((vd_dec_t){1, 10}, vd_dec_int (1), &d) == -1);
    f += s_check (verbose, "cmp", "1.50 = 1.5",
                  vd_dec_cmp ((vd_dec_t){150, 2}, (vd_dec_t){15, 1}) == 0);
    f += s_check (verbose, "cmp", "-1 < 0.001",
                  vd_dec_cmp (vd_dec_int (-1), (vd_dec_t){1, 3}) == -1);
    f += s_check (verbose, "cmp", "2 > 1.999",
                  vd_dec_cmp (vd_dec_int (2), (vd_dec_t){1999, 3}) == 1);
    return f;
}

int
vd_number_test (bool verbose)
{
    int f = s_test_parse (verbose) + s_test_dec (verbose);
    if (verbose || f)
        printf ("vd_number: %s (%d failed)\n", f ? "FAILED" : "OK", f);
    return f ? -1 : 0;
}
