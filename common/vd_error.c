/*  vd_error - error detail passed up to the caller. */
#include "vendange.h"

void
vd_error_clear (vd_error_t *err)
{
    if (err)
        memset (err, 0, sizeof *err);
}

int
vd_error_set (vd_error_t *err, vd_err_kind_t kind, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->kind = kind;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->msg, sizeof err->msg, fmt, ap);
    va_end (ap);
    return -1;
}

int
vd_error_detail (vd_error_t *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->detail, sizeof err->detail, fmt, ap);
    va_end (ap);
    return -1;
}

void
vd_error_at (vd_error_t *err, const char *file, long line)
{
    if (!err)
        return;
    snprintf (err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
}
