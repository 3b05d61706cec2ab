/*  vd_error - error detail passed up to the caller.

    Library code never prints: it fills a caller-supplied vd_error_t and
    returns -1 (or NULL). The caller logs it, stores it, or answers with it.
*/
#ifndef VD_ERROR_H_INCLUDED
#define VD_ERROR_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    VD_ERR_NONE = 0,
    VD_ERR_PERMANENT, /* retrying cannot help: bad input, bad settings  */
    VD_ERR_TRANSIENT  /* retry with capped backoff: network, DB restart */
} vd_err_kind_t;

typedef struct {
    vd_err_kind_t kind;
    char msg[512];    /* primary message: short, lower case, no period   */
    char detail[512]; /* optional detail (library error string, value)   */
    char hint[256];   /* optional hint for the user                      */
    char sqlstate[6]; /* SQLSTATE when the error came from PostgreSQL    */
    int http_status;  /* HTTP status when the error came from HTTP       */
    char file[256];   /* input file the error is about, or ""            */
    long line;        /* 1-based line in that file, or 0                 */
} vd_error_t;

/*  Resets err to "no error". Accepts NULL. */
void vd_error_clear (vd_error_t *err);

/*  Sets err->kind and err->msg (printf-style). Accepts a NULL err.
    Always returns -1 so callers can write  return vd_error_set (...);  */
int vd_error_set (vd_error_t *err, vd_err_kind_t kind, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Sets err->detail (printf-style). Accepts a NULL err. Returns -1. */
int vd_error_detail (vd_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/*  Sets err->file and err->line. Accepts a NULL err. */
void vd_error_at (vd_error_t *err, const char *file, long line);

#endif
