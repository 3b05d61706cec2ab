/*  isv_fields - the fields of one row being built (see isv_fields.h). */
#include "vendange.h"
#include "isv_fields.h"
#include <float.h>
#include <math.h>

void
isv_fields_init (isv_fields_t *self, size_t max)
{
    vd_buf_init (&self->text, max);
    vd_buf_init (&self->raw, max);
    self->count = 0;
}

void
isv_fields_free (isv_fields_t *self)
{
    vd_buf_free (&self->text);
    vd_buf_free (&self->raw);
    self->count = 0;
}

void
isv_fields_reset (isv_fields_t *self)
{
    vd_buf_reset (&self->text);
    vd_buf_reset (&self->raw);
    self->count = 0;
}

int
isv_fields_push (isv_fields_t *self)
{
    if (self->count == ISV_MAX_FIELDS)
        return -1;
    //  Each field but the last is followed by its NUL in the buffer; the
    //  last one uses the NUL vd_buf keeps after its content
    if (self->count > 0 && vd_buf_addc (&self->text, '\0') < 0)
        return -1;
    self->starts[self->count] = self->text.len;
    self->lengths[self->count] = 0;
    self->count++;
    return 0;
}

int
isv_fields_append (isv_fields_t *self, const char *s, size_t len)
{
    if (self->count == 0 && isv_fields_push (self) < 0)
        return -1;
    if (vd_buf_add (&self->text, s, len) < 0)
        return -1;
    self->lengths[self->count - 1] += len;
    return 0;
}

int
isv_fields_add (isv_fields_t *self, const char *s, size_t len)
{
    if (isv_fields_push (self) < 0)
        return -1;
    return isv_fields_append (self, s, len);
}

int
isv_fields_add_converted (isv_fields_t *self, const char *encoding, const char *s, size_t len)
{
    if (isv_fields_push (self) < 0)
        return -1;
    size_t before = self->text.len;
    if (vd_utf8_convert (encoding, s, len, &self->text) < 0)
        return -1;
    self->lengths[self->count - 1] += self->text.len - before;
    return 0;
}

//  Writes the digits of a "%.15g" mantissa with its decimal point moved
//  by exponent places, without exponent
static int
s_expand_exponent (const char *tmp, char *out, size_t size)
{
    char digits[24];
    size_t ndigits = 0;
    const char *p = tmp;
    bool negative = *p == '-';
    if (negative)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && ndigits < sizeof digits)
            digits[ndigits++] = *p;
    if (*p != 'e' || ndigits == 0)
        return -1;
    long exponent = strtol (p + 1, NULL, 10);
    long point = exponent + 1; //  digits before the decimal point
    vd_buf_t b;
    vd_buf_init (&b, size - 1);
    int rc = negative ? vd_buf_addc (&b, '-') : 0;
    if (point <= 0) {
        rc |= vd_buf_add (&b, "0.", 2);
        for (long i = 0; i < -point && rc == 0; i++)
            rc |= vd_buf_addc (&b, '0');
        rc |= vd_buf_add (&b, digits, ndigits);
    } else if ((size_t)point >= ndigits) {
        rc |= vd_buf_add (&b, digits, ndigits);
        for (size_t i = ndigits; i < (size_t)point && rc == 0; i++)
            rc |= vd_buf_addc (&b, '0');
    } else {
        rc |= vd_buf_add (&b, digits, (size_t)point);
        rc |= vd_buf_addc (&b, '.');
        rc |= vd_buf_add (&b, digits + point, ndigits - (size_t)point);
    }
    if (rc == 0)
        memcpy (out, vd_buf_str (&b), b.len + 1);
    vd_buf_free (&b);
    return rc == 0 ? 0 : -1;
}

int
isv_fields_format_number (double value, char *out, size_t size)
{
    if (!isfinite (value) || size < 32)
        return -1;
    if (value == 0) {
        memcpy (out, "0", 2);
        return 0;
    }
    char tmp[48];
    snprintf (tmp, sizeof tmp, "%.15g", value);
    if (!strchr (tmp, 'e')) {
        snprintf (out, size, "%s", tmp);
        return 0;
    }
    return s_expand_exponent (tmp, out, size);
}

int
isv_fields_add_number (isv_fields_t *self, double value)
{
    char text[400];
    if (isv_fields_format_number (value, text, sizeof text) < 0)
        return -1;
    return isv_fields_add (self, text, strlen (text));
}

int
isv_fields_join_raw (isv_fields_t *self)
{
    vd_buf_reset (&self->raw);
    const char *text = vd_buf_str (&self->text);
    for (size_t i = 0; i < self->count; i++) {
        if (i > 0 && vd_buf_addc (&self->raw, ';') < 0)
            return -1;
        if (vd_buf_add (&self->raw, text + self->starts[i], self->lengths[i]) < 0)
            return -1;
    }
    return 0;
}

void
isv_fields_row (isv_fields_t *self, long line, isv_row_t *row)
{
    const char *text = vd_buf_str (&self->text);
    for (size_t i = 0; i < self->count; i++)
        self->pointers[i] = text + self->starts[i];
    row->line = line;
    row->nfields = self->count;
    row->fields = self->pointers;
    row->lengths = self->lengths;
    row->raw = vd_buf_str (&self->raw);
    row->error = NULL;
    row->bytes = NULL;
    row->nbytes = 0;
}

void
isv_fields_error_row (isv_fields_t *self, long line, const char *error, isv_row_t *row)
{
    self->count = 0;
    vd_buf_reset (&self->text);
    isv_fields_row (self, line, row);
    row->error = error;
}

int
isv_fields_test (bool verbose)
{
    int failures = 0;
    /* numbers as Excel shows them (15 significant digits), in plain
       decimal; the long ones checked against Python's Decimal */
    static const struct {
        double value;
        const char *text;
    } numbers[] = {{1.0, "1"},
                   {-0.0, "0"},
                   {0.1 + 0.2, "0.3"},
                   {-2.5, "-2.5"},
                   {1e21, "1000000000000000000000"},
                   {1.5e-7, "0.00000015"},
                   {123456789012345678.0, "123456789012346000"}};
    char out[400];
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        VD_CHECK_WHY (&failures,
                      isv_fields_format_number (numbers[i].value, out, sizeof out) == 0 &&
                          strcmp (out, numbers[i].text) == 0,
                      numbers[i].text);
    /* the extremes fit in 352 bytes: 1e-300 is "0." then 299 zeros and 1,
       DBL_MAX 309 digits, the smallest subnormal 340 characters */
    VD_CHECK (&failures, isv_fields_format_number (1e-300, out, 352) == 0 && strlen (out) == 302 &&
                             strncmp (out, "0.000", 5) == 0 && out[301] == '1');
    VD_CHECK (&failures, isv_fields_format_number (DBL_MAX, out, 352) == 0 && strlen (out) == 309 &&
                             strncmp (out, "179769313486232000", 18) == 0);
    VD_CHECK (&failures, isv_fields_format_number (4.9406564584124654e-324, out, 352) == 0 &&
                             strlen (out) == 340 && strcmp (out + 325, "494065645841247") == 0);
    VD_CHECK (&failures, isv_fields_format_number (NAN, out, sizeof out) < 0 &&
                             isv_fields_format_number (-INFINITY, out, sizeof out) < 0 &&
                             isv_fields_format_number (1.0, out, 16) < 0);
    /* fields, their raw line, the ceilings */
    isv_fields_t f;
    isv_fields_init (&f, 64);
    VD_CHECK (&failures, isv_fields_add (&f, "a", 1) == 0 && isv_fields_append (&f, "b", 1) == 0 &&
                             isv_fields_add (&f, "", 0) == 0 &&
                             isv_fields_add_number (&f, 12.5) == 0 &&
                             isv_fields_add_converted (&f, "windows-1252", "\xe9t\xe9", 3) == 0 &&
                             isv_fields_join_raw (&f) == 0);
    isv_row_t row;
    isv_fields_row (&f, 7, &row);
    VD_CHECK (&failures, row.line == 7 && row.nfields == 4 && strcmp (row.fields[0], "ab") == 0 &&
                             row.lengths[1] == 0 &&
                             strcmp (row.fields[3], "\xc3\xa9t\xc3\xa9") == 0 &&
                             strcmp (row.raw, "ab;;12.5;\xc3\xa9t\xc3\xa9") == 0 && !row.error);
    isv_fields_error_row (&f, 8, "unterminated quoted field", &row);
    VD_CHECK (&failures,
              row.nfields == 0 && row.error && strcmp (row.raw, "ab;;12.5;\xc3\xa9t\xc3\xa9") == 0);
    /* past the text ceiling (64 bytes here), or past ISV_MAX_FIELDS
       fields: refused */
    isv_fields_reset (&f);
    char big[65];
    memset (big, 'x', sizeof big);
    VD_CHECK (&failures, isv_fields_add (&f, big, 64) == 0 && isv_fields_append (&f, "y", 1) < 0);
    isv_fields_reset (&f);
    VD_CHECK (&failures, isv_fields_add (&f, big, 65) < 0);
    isv_fields_reset (&f);
    VD_CHECK (&failures, f.count == 0);
    isv_fields_free (&f);
    isv_fields_init (&f, 1 << 20);
    int pushed = 0;
    while (isv_fields_push (&f) == 0)
        pushed++;
    VD_CHECK (&failures, pushed == ISV_MAX_FIELDS);
    isv_fields_free (&f);
    if (verbose)
        printf ("  isv_fields: %d failures\n", failures);
    return failures ? -1 : 0;
}
