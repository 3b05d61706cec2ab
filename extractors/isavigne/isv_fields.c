/*  isv_fields - the fields of one row being built (see isv_fields.h). */
#include "vendange.h"
#include "isv_fields.h"
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
