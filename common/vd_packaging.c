/*  vd_packaging - volume and pack size of a packaging text. */
#include "vendange.h"
#include "vd_packaging.h"

#define MAX_PACK 10000

/*  d without trailing fractional zeros ("6.000" -> "6"). */
static vd_dec_t
s_trim (vd_dec_t d)
{
    while (d.scale > 0 && d.v % 10 == 0) {
        d.v /= 10;
        d.scale--;
    }
    return d;
}

/*  "N x " at the start of folded text s: N into *pack, returns the rest. */
static const char *
s_pack_prefix (const char *s, vd_dec_t *pack)
{
    *pack = vd_dec_int (1);
    size_t digits = strspn (s, "0123456789");
    const char *p = s + digits;
    while (*p == ' ')
        p++;
    if (digits == 0 || digits > 5 || (*p != 'x' && *p != '*'))
        return s;
    p++;
    while (*p == ' ')
        p++;
    if (!*p)
        return s;
    int64_t n = 0;
    for (size_t i = 0; i < digits; i++)
        n = n * 10 + (s[i] - '0');
    if (n < 1 || n > MAX_PACK)
        return s;
    *pack = vd_dec_int (n);
    return p;
}

int
vd_packaging_parse (const char *text, size_t len, vd_dec_t *volume_cl, vd_dec_t *pack)
{
    static const char *const names[] = {"magnum", "jeroboam", "bouteille",
                                        "demi",   "fillette", NULL};
    static const vd_dec_t cl[] = {{150, 0}, {300, 0}, {75, 0}, {375, 1}, {375, 1}};
    vd_buf_t folded, num;
    vd_buf_init (&folded, 1024);
    vd_buf_init (&num, 64);
    int rc = -1;
    if (vd_text_fold (text, len, &folded) < 0)
        goto done;
    const char *s = vd_buf_str (&folded);
    if (!*s) {
        rc = 0;
        goto done;
    }
    s = s_pack_prefix (s, pack);
    for (int i = 0; names[i]; i++)
        if (strcmp (s, names[i]) == 0) {
            *volume_cl = cl[i];
            rc = 1;
            goto done;
        }
    /* a number, then an optional unit: ml, cl, l; none: <= 10 is litres */
    size_t n = strspn (s, "0123456789,. ");
    vd_dec_t d;
    if (n == 0 || vd_number_parse (s, n, &num) < 0 || vd_dec_parse (num.data, num.len, &d) < 0)
        goto done;
    const char *unit = s + n;
    vd_dec_t factor;
    if (strcmp (unit, "ml") == 0)
        factor = (vd_dec_t){1, 1};
    else if (strcmp (unit, "cl") == 0)
        factor = vd_dec_int (1);
    else if (strcmp (unit, "l") == 0 || (!*unit && vd_dec_cmp (d, vd_dec_int (10)) <= 0))
        factor = vd_dec_int (100);
    else if (!*unit)
        factor = vd_dec_int (1);
    else
        goto done;
    if (d.v <= 0 || vd_dec_mul (d, factor, d.scale, volume_cl) < 0)
        goto done;
    rc = 1;
done:
    vd_buf_free (&folded);
    vd_buf_free (&num);
    return rc;
}

int
vd_packaging_bottles (const char *text, size_t len, vd_dec_t *factor)
{
    vd_dec_t volume, pack, total;
    int rc = vd_packaging_parse (text, len, &volume, &pack);
    if (rc <= 0)
        return rc;
    if (vd_dec_mul (volume, pack, volume.scale, &total) < 0 ||
        vd_dec_div (total, vd_dec_int (75), 6, factor) < 0)
        return -1;
    *factor = s_trim (*factor);
    return 1;
}

/* ---- self test ---------------------------------------------------------- */

int
vd_packaging_test (bool verbose)
{
    static const struct {
        const char *text, *volume, *pack, *bottles;
    } cases[] = {
        {"75 cl", "75", "1", "1"},        {"6 x 75 cl", "75", "6", "6"},
        {"12 x 75 cl", "75", "12", "12"}, {"12x75cl", "75", "12", "12"},
        {"150 cl", "150", "1", "2"},      {"37,5 cl", "37.5", "1", "0.5"},
        {"0,75 L", "75.00", "1", "1"},    {"Magnum", "150", "1", "2"},
        {"6 X Magnum", "150", "6", "12"}, {"1,5l", "150.0", "1", "2"},
        {"300 cl", "300", "1", "4"},      {"Demi", "37.5", "1", "0.5"},
        {"750 ml", "75", "1", "1"},       {"fût", NULL, NULL, NULL},
        {"6 x", NULL, NULL, NULL},        {"0 cl", NULL, NULL, NULL},
        {"75 cl 6", NULL, NULL, NULL},    {"x 75 cl", NULL, NULL, NULL},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vd_dec_t volume = {0, 0}, pack = {0, 0}, bottles = {0, 0};
        char v[48] = "", p[48] = "", b[48] = "";
        int rc = vd_packaging_parse (cases[i].text, strlen (cases[i].text), &volume, &pack);
        int rcb = vd_packaging_bottles (cases[i].text, strlen (cases[i].text), &bottles);
        if (rc > 0) {
            vd_dec_format (volume, v, sizeof v);
            vd_dec_format (pack, p, sizeof p);
        }
        if (rcb > 0)
            vd_dec_format (bottles, b, sizeof b);
        bool ok = cases[i].volume ? rc == 1 && strcmp (v, cases[i].volume) == 0 &&
                                        strcmp (p, cases[i].pack) == 0 &&
                                        (!cases[i].bottles || strcmp (b, cases[i].bottles) == 0)
                                  : rc == -1 && rcb == -1;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr,
                     "vd_packaging: %s \"%s\": volume %s pack %s bottles %s\n", ok ? "ok" : "FAIL",
                     cases[i].text, v, p, b);
        failures += !ok;
    }
    vd_dec_t d;
    if (vd_packaging_parse ("  ", 2, &d, &d) != 0 || vd_packaging_bottles ("", 0, &d) != 0)
        failures++;
    return failures ? -1 : 0;
}
