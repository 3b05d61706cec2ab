/*  vd_date - dates and instants as the sources write them.

    Formats: dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd, each with an
    optional time (" HH:MM", " HH:MM:SS", "THH:MM:SS", fractional seconds up
    to 7 digits, optional "Z" or "+HH:MM"/"-HH:MM"/"+HHMM" offset).
*/
#ifndef VD_DATE_H_INCLUDED
#define VD_DATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int year, month, day;
    bool has_time;
    int hour, minute, second;
    int usec;        /* microseconds (7th fractional digit rounded) */
    bool has_offset; /* "Z" or an explicit offset was given        */
    int offset_min;  /* offset east of UTC in minutes               */
} vd_date_t;

/*  Parses and validates (31/02 and 29/02 of a common year are invalid,
    hour <= 23, minute <= 59, second <= 59, year 1800..2200). Surrounding
    white space is ignored. Returns 0, -1 when not a valid date. */
int vd_date_parse (const char *in, size_t len, vd_date_t *out);

/*  "yyyy-mm-dd". Returns 0, -1 when size is too small (needs 11). */
int vd_date_format_date (const vd_date_t *d, char *out, size_t size);

/*  An instant for PostgreSQL's timestamptz input: with an offset,
    "yyyy-mm-dd HH:MM:SS[.ffffff]+HH:MM"; without, the local time followed
    by " " and tz_name ("2024-03-15 10:30:00 Europe/Paris"), which
    PostgreSQL resolves (daylight saving included). A date without time is
    midnight. Returns 0, -1 when size is too small (64 is enough). */
int vd_date_format_instant (const vd_date_t *d, const char *tz_name, char *out, size_t size);

/*  Excel serial day number (1900 date system, with Excel's 1900-02-29
    quirk) to a date; the fraction is the time of day. Returns 0, -1 when
    out of range. */
int vd_date_from_excel (double serial, vd_date_t *out);

/*  Self test (bad input included). Returns 0 when every check passes. */
int vd_date_test (bool verbose);

#endif
