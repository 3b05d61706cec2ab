/*  vd_date - dates and instants as the sources write them.

    A small recursive-descent reader: date part, optional time part,
    optional offset, then the end of the trimmed text. Nothing here looks
    at the process time zone (no localtime, no mktime): local times are
    handed to PostgreSQL with their zone name, which resolves them.
*/
#include "vendange.h"
#include <math.h>

#define S_YEAR_MIN 1800
#define S_YEAR_MAX 2200
#define S_OFFSET_MAX_MIN (14 * 60) //  UTC+14 is the furthest zone
#define S_MS_PER_DAY 86400000LL

static bool
s_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_days_in_month (int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap (y) ? 29 : days[m - 1];
}

static bool
s_digit (const char *s, size_t len, size_t i)
{
    return i < len && s[i] >= '0' && s[i] <= '9';
}

//  Reads min..max digits at s[*i], not followed by another digit.
//  Returns the value, -1 when there are too few or too many.
static int
s_number (const char *s, size_t len, size_t *i, int min, int max)
{
    int v = 0, n = 0;
    while (n < max && s_digit (s, len, *i)) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    return n < min || s_digit (s, len, *i) ? -1 : v;
}

static bool
s_accept (const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

//  dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy (one or two digit day and month,
//  the same separator twice) or yyyy-mm-dd.
static int
s_date_part (const char *s, size_t len, size_t *i, vd_date_t *d)
{
    size_t j = *i;
    while (s_digit (s, len, j))
        j++;
    if (j - *i == 4) {
        d->year = s_number (s, len, i, 4, 4);
        if (!s_accept (s, len, i, '-') || (d->month = s_number (s, len, i, 1, 2)) < 0 ||
            !s_accept (s, len, i, '-') || (d->day = s_number (s, len, i, 1, 2)) < 0)
            return -1;
        return 0;
    }
    if ((d->day = s_number (s, len, i, 1, 2)) < 0 || *i >= len)
        return -1;
    char sep = s[*i];
    if ((sep != '/' && sep != '-' && sep != '.') || !s_accept (s, len, i, sep) ||
        (d->month = s_number (s, len, i, 1, 2)) < 0 || !s_accept (s, len, i, sep) ||
        (d->year = s_number (s, len, i, 4, 4)) < 0)
        return -1;
    return 0;
}

//  "." or "," then 1 to 9 digits: microseconds, the 7th digit rounded
//  (*carry set when that rounds up to a whole second).
static int
s_fraction (const char *s, size_t len, size_t *i, vd_date_t *d, bool *carry)
{
    if (!s_accept (s, len, i, '.') && !s_accept (s, len, i, ','))
        return 0;
    int usec = 0, n = 0, next = 0;
    while (s_digit (s, len, *i) && n < 9) {
        int v = s[(*i)++] - '0';
        if (n < 6)
            usec = usec * 10 + v;
        else if (n == 6)
            next = v;
        n++;
    }
    if (n == 0 || s_digit (s, len, *i))
        return -1;
    for (int k = n; k < 6; k++)
        usec *= 10;
    usec += next >= 5;
    *carry = usec == 1000000;
    d->usec = *carry ? 0 : usec;
    return 0;
}

//  HH:MM[:SS[.fff]] after a 'T' or spaces.
static int
s_time_part (const char *s, size_t len, size_t *i, vd_date_t *d, bool *carry)
{
    if (!s_accept (s, len, i, 'T') && !s_accept (s, len, i, 't')) {
        if (!s_accept (s, len, i, ' '))
            return -1;
        while (s_accept (s, len, i, ' '))
            ;
    }
    d->has_time = true;
    if ((d->hour = s_number (s, len, i, 1, 2)) < 0 || !s_accept (s, len, i, ':') ||
        (d->minute = s_number (s, len, i, 2, 2)) < 0)
        return -1;
    if (s_accept (s, len, i, ':') &&
        ((d->second = s_number (s, len, i, 2, 2)) < 0 || s_fraction (s, len, i, d, carry)))
        return -1;
    return 0;
}

//  "Z", or +HH, +HHMM, +HH:MM (or '-'), optionally after one space.
static int
s_offset_part (const char *s, size_t len, size_t *i, vd_date_t *d)
{
    if (*i + 1 < len && s[*i] == ' ')
        (*i)++;
    if (s_accept (s, len, i, 'Z') || s_accept (s, len, i, 'z')) {
        d->has_offset = true;
        return 0;
    }
    int sign = s_accept (s, len, i, '+') ? 1 : s_accept (s, len, i, '-') ? -1 : 0;
    if (sign == 0)
        return -1;
    size_t start = *i;
    int v = s_number (s, len, i, 2, 4), minutes = 0;
    size_t width = *i - start;
    if (v < 0 || width == 3)
        return -1;
    int hours = width == 4 ? v / 100 : v;
    if (width == 4)
        minutes = v % 100;
    else if (s_accept (s, len, i, ':') && (minutes = s_number (s, len, i, 2, 2)) < 0)
        return -1;
    if (minutes > 59)
        return -1;
    d->has_offset = true;
    d->offset_min = sign * (hours * 60 + minutes);
    return hours * 60 + minutes <= S_OFFSET_MAX_MIN ? 0 : -1;
}

//  Adds one second (a fraction rounded up to it).
static void
s_carry_second (vd_date_t *d)
{
    if (++d->second < 60)
        return;
    d->second = 0;
    if (++d->minute < 60)
        return;
    d->minute = 0;
    if (++d->hour < 24)
        return;
    d->hour = 0;
    if (++d->day <= s_days_in_month (d->year, d->month))
        return;
    d->day = 1;
    if (++d->month <= 12)
        return;
    d->month = 1;
    d->year++;
}

static bool
s_valid (const vd_date_t *d)
{
    return d->year >= S_YEAR_MIN && d->year <= S_YEAR_MAX && d->month >= 1 && d->month <= 12 &&
           d->day >= 1 && d->day <= s_days_in_month (d->year, d->month) && d->hour <= 23 &&
           d->minute <= 59 && d->second <= 59;
}

int
vd_date_parse (const char *in, size_t len, vd_date_t *out)
{
    vd_date_t d;
    memset (&d, 0, sizeof d);
    size_t i;
    bool carry = false;
    vd_text_trim (in, len, &i, &len);
    if (s_date_part (in, len, &i, &d))
        return -1;
    if (i < len && s_time_part (in, len, &i, &d, &carry))
        return -1;
    if (i < len && (!d.has_time || s_offset_part (in, len, &i, &d)))
        return -1;
    if (i != len || !s_valid (&d))
        return -1;
    if (carry)
        s_carry_second (&d);
    if (d.year > S_YEAR_MAX)
        return -1;
    *out = d;
    return 0;
}

//  Copies head[0..n) and, when suffix is not empty, " " suffix into
//  out[size]. Returns -1 when it does not fit.
static int
s_output (char *out, size_t size, const char *head, int n, const char *suffix)
{
    size_t extra = *suffix ? 1 + strlen (suffix) : 0;
    if (n < 0 || (size_t)n + extra >= size)
        return -1;
    memcpy (out, head, (size_t)n);
    if (extra) {
        out[n] = ' ';
        memcpy (out + n + 1, suffix, extra - 1);
    }
    out[(size_t)n + extra] = '\0';
    return 0;
}

int
vd_date_format_date (const vd_date_t *d, char *out, size_t size)
{
    char tmp[48];
    int n;
    if (d->year >= 0 && d->year <= 9999 && d->month >= 0 && d->month <= 99 && d->day >= 0 &&
        d->day <= 99) { /* every line has a date: no snprintf on this path */
        int y = d->year;
        char digits[] = {(char)('0' + y / 1000),
                         (char)('0' + y / 100 % 10),
                         (char)('0' + y / 10 % 10),
                         (char)('0' + y % 10),
                         '-',
                         (char)('0' + d->month / 10),
                         (char)('0' + d->month % 10),
                         '-',
                         (char)('0' + d->day / 10),
                         (char)('0' + d->day % 10)};
        memcpy (tmp, digits, sizeof digits);
        n = (int)sizeof digits;
    } else
        n = snprintf (tmp, sizeof tmp, "%04d-%02d-%02d", d->year, d->month, d->day);
    return s_output (out, size, tmp, n, "");
}

int
vd_date_format_instant (const vd_date_t *d, const char *tz_name, char *out, size_t size)
{
    char frac[16] = "", zone[16] = "", tmp[128];
    int h = d->has_time ? d->hour : 0, m = d->has_time ? d->minute : 0;
    int s = d->has_time ? d->second : 0;
    if (d->has_time && d->usec)
        snprintf (frac, sizeof frac, ".%06d", d->usec);
    if (d->has_offset) {
        int a = d->offset_min < 0 ? -d->offset_min : d->offset_min;
        snprintf (zone, sizeof zone, "%c%02d:%02d", d->offset_min < 0 ? '-' : '+', a / 60 % 100,
                  a % 60);
    }
    int n = snprintf (tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d:%02d%s%s", d->year, d->month,
                      d->day, h, m, s, frac, zone);
    return s_output (out, size, tmp, n, d->has_offset || !tz_name ? "" : tz_name);
}

//  Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
static void
s_civil_from_days (int64_t z, vd_date_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    d->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d->year = (int)(yoe + era * 400 + (d->month <= 2));
}

int
vd_date_from_excel (double serial, vd_date_t *out)
{
    if (!(serial >= 1.0 && serial < 200000.0))
        return -1; //  also NaN
    int64_t day = (int64_t)floor (serial);
    int64_t ms = (int64_t)floor ((serial - (double)day) * S_MS_PER_DAY + 0.5);
    if (ms >= S_MS_PER_DAY) {
        day++;
        ms = 0;
    }
    if (day == 60)
        return -1; //  Excel's 1900-02-29, a day that never was
    vd_date_t d;
    memset (&d, 0, sizeof d);
    //  Serial 1 is 1900-01-01; from 61 on, Excel counts the false leap day.
    s_civil_from_days (day < 60 ? day - 25568 : day - 25569, &d);
    d.has_time = ms != 0;
    d.hour = (int)(ms / 3600000);
    d.minute = (int)(ms / 60000 % 60);
    d.second = (int)(ms / 1000 % 60);
    d.usec = (int)(ms % 1000) * 1000;
    if (!s_valid (&d))
        return -1;
    *out = d;
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test

static int
s_check (bool verbose, const char *name, const char *in, bool ok)
{
    if (!ok)
        fprintf (stderr, "vd_date: FAIL %s (\"%s\")\n", name, in);
    else if (verbose)
        printf ("vd_date: ok %s (\"%s\")\n", name, in);
    return ok ? 0 : 1;
}

//  Parses in and formats it as an instant in Europe/Paris: want, or NULL
//  when in must be rejected.
static int
s_expect (bool verbose, const char *in, const char *want)
{
    vd_date_t d;
    char got[64] = "(error)";
    if (vd_date_parse (in, strlen (in), &d) == 0 &&
        vd_date_format_instant (&d, "Europe/Paris", got, sizeof got))
        snprintf (got, sizeof got, "(format failed)");
    bool ok = strcmp (got, want ? want : "(error)") == 0;
    if (!ok)
        fprintf (stderr, "vd_date: FAIL parse (\"%s\"): got \"%s\" want \"%s\"\n", in, got,
                 want ? want : "(error)");
    else if (verbose)
        printf ("vd_date: ok parse (\"%s\") -> \"%s\"\n", in, got);
    return ok ? 0 : 1;
}

static int
s_test_parse (bool verbose)
{
    static const char *cases[][2] = {
        {"15/03/2024", "2024-03-15 00:00:00 Europe/Paris"},
        {"15-03-2024", "2024-03-15 00:00:00 Europe/Paris"},
        {"15.03.2024", "2024-03-15 00:00:00 Europe/Paris"},
        {"2024-03-15", "2024-03-15 00:00:00 Europe/Paris"},
        {" 5/3/2024\xC2\xA0", "2024-03-05 00:00:00 Europe/Paris"},
        {"29/02/2024", "2024-02-29 00:00:00 Europe/Paris"},
        {"29/02/2000", "2000-02-29 00:00:00 Europe/Paris"},
        {"2024-03-15 10:30", "2024-03-15 10:30:00 Europe/Paris"},
        {"15/03/2024  9:05:07", "2024-03-15 09:05:07 Europe/Paris"},
        {"2024-03-15T10:00:00+01:00", "2024-03-15 10:00:00+01:00"},
        {"2024-03-15T10:00:00-0530", "2024-03-15 10:00:00-05:30"},
        {"2024-03-15 10:00:00 +01", "2024-03-15 10:00:00+01:00"},
        {"2026-11-25T10:00:00.1234567Z", "2026-11-25 10:00:00.123457+00:00"},
        {"2024-03-15T10:00:00,5", "2024-03-15 10:00:00.500000 Europe/Paris"},
        {"2024-12-31T23:59:59.9999996Z", "2025-01-01 00:00:00+00:00"},
        {"29/02/2023", NULL},
        {"31/02/2024", NULL},
        {"31/04/2024", NULL},
        {"29/02/1900", NULL},
        {"", NULL},
        {"abc", NULL},
        {"2024-13-01", NULL},
        {"2024-00-10", NULL},
        {"32/01/2024", NULL},
        {"15/03/24", NULL},
        {"15/03-2024", NULL},
        {"2024/03/15", NULL},
        {"15/03/2024 24:00", NULL},
        {"15/03/2024 12:60", NULL},
        {"15/03/2024 12:30:60", NULL},
        {"1799-12-31", NULL},
        {"2201-01-01", NULL},
        {"15/03/2024Z", NULL},
        {"2024-03-15T10:00:00+15:00", NULL},
        {"2024-03-15T10:00:00+1", NULL},
        {"2024-03-15T10:00:00.1234567890", NULL},
        {"2024-03-15T10:00+013", NULL},
        {"2024-03-15T10:00+01:", NULL},
        {"2024-03-15T10:00+0160", NULL},
        {"15/03/2024 14:30 x", NULL},
        {"12345/03/2024", NULL},
        {"15/03/20245", NULL},
        {"2024-03-15T", NULL},
        {"2024-03-15T10:00:00.", NULL},
        {"2200-12-31T23:59:59.9999999", NULL},
    };
    int f = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        f += s_expect (verbose, cases[i][0], cases[i][1]);
    vd_date_t d;
    const char *in = "2026-11-25T10:00:00.1234567Z";
    f += s_check (verbose, "fields", in,
                  vd_date_parse (in, strlen (in), &d) == 0 && d.has_time && d.has_offset &&
                      d.offset_min == 0 && d.usec == 123457);
    in = "2024-03-15T10:00:00+01:00";
    f += s_check (verbose, "offset", in,
                  vd_date_parse (in, strlen (in), &d) == 0 && d.has_offset && d.offset_min == 60 &&
                      d.hour == 10);
    in = "15/03/2024 14:30";
    f += s_check (verbose, "has_time", in,
                  vd_date_parse (in, strlen (in), &d) == 0 && d.has_time && !d.has_offset &&
                      d.hour == 14 && d.minute == 30);
    in = "15/03/2024";
    f += s_check (verbose, "no time", in,
                  vd_date_parse (in, strlen (in), &d) == 0 && !d.has_time && d.year == 2024 &&
                      d.month == 3 && d.day == 15);
    f += s_check (verbose, "not NUL-terminated", "15/03/2024",
                  vd_date_parse ("15/03/2024 10", 10, &d) == 0 && !d.has_time);
    return f;
}

static int
s_expect_excel (bool verbose, double serial, const char *want)
{
    vd_date_t d;
    char got[64] = "(error)";
    if (vd_date_from_excel (serial, &d) == 0)
        vd_date_format_instant (&d, NULL, got, sizeof got);
    char name[32];
    snprintf (name, sizeof name, "%.6f", serial);
    return s_check (verbose, "excel", name, strcmp (got, want) == 0);
}

static int
s_test_format (bool verbose)
{
    vd_date_t d;
    char small[11];
    int f = 0;
    f += s_expect_excel (verbose, 45366, "2024-03-15 00:00:00");
    f += s_expect_excel (verbose, 45366.5, "2024-03-15 12:00:00");
    f += s_expect_excel (verbose, 45366.520833333, "2024-03-15 12:30:00");
    f += s_expect_excel (verbose, 45366.9999999999, "2024-03-16 00:00:00");
    f += s_expect_excel (verbose, 1, "1900-01-01 00:00:00");
    f += s_expect_excel (verbose, 59, "1900-02-28 00:00:00");
    f += s_expect_excel (verbose, 61, "1900-03-01 00:00:00");
    f += s_expect_excel (verbose, 60, "(error)");
    f += s_expect_excel (verbose, 0.5, "(error)");
    f += s_expect_excel (verbose, -3, "(error)");
    f += s_expect_excel (verbose, NAN, "(error)");
    f += s_expect_excel (verbose, 1e12, "(error)");
    f += s_expect_excel (verbose, 110000, "(error)");
    f += s_check (verbose, "excel fields", "45366",
                  vd_date_from_excel (45366, &d) == 0 && !d.has_time && d.year == 2024 &&
                      d.month == 3 && d.day == 15);
    f += s_check (verbose, "format date", "2024-03-15",
                  vd_date_format_date (&d, small, sizeof small) == 0 &&
                      strcmp (small, "2024-03-15") == 0);
    f +=
        s_check (verbose, "format date too small", "10", vd_date_format_date (&d, small, 10) == -1);
    f += s_check (verbose, "format instant too small", "11",
                  vd_date_format_instant (&d, "Europe/Paris", small, sizeof small) == -1);
    return f;
}

int
vd_date_test (bool verbose)
{
    int f = s_test_parse (verbose) + s_test_format (verbose);
    if (verbose || f)
        printf ("vd_date: %s (%d failed)\n", f ? "FAILED" : "OK", f);
    return f ? -1 : 0;
}
