/*  vd_log - one logger: JSON lines on stderr.

    Each line: {"ts":"...","level":"info","service":"loader","run_id":42,
                "msg":"...","detail":"...","hint":"..."}
    Messages in PostgreSQL's style: short, lower case, no final period.
    Never pass a secret: use vd_redact_* first (vd_config.h).
*/
#ifndef VD_LOG_H_INCLUDED
#define VD_LOG_H_INCLUDED

#include "vd_error.h"
#include <stdint.h>

typedef enum { VD_LOG_DEBUG, VD_LOG_INFO, VD_LOG_WARN, VD_LOG_ERROR } vd_log_level_t;

/*  Process-wide settings: service name, minimum level. */
void vd_log_init (const char *service, vd_log_level_t min_level);
/*  Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int vd_log_level_parse (const char *name, vd_log_level_t *level);
/*  The run the following lines belong to (0: none). */
void vd_log_set_run (int64_t run_id);

void vd_log (vd_log_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/*  Logs msg with a detail and an optional hint (either may be NULL). */
void vd_log_detail (vd_log_level_t level, const char *detail, const char *hint, const char *fmt,
                    ...) __attribute__ ((format (printf, 4, 5)));
/*  Logs a vd_error_t at the given level (msg, detail, hint, file:line). */
void vd_log_error (vd_log_level_t level, const vd_error_t *err);

#define vd_debug(...) vd_log (VD_LOG_DEBUG, __VA_ARGS__)
#define vd_info(...) vd_log (VD_LOG_INFO, __VA_ARGS__)
#define vd_warn(...) vd_log (VD_LOG_WARN, __VA_ARGS__)
#define vd_err(...) vd_log (VD_LOG_ERROR, __VA_ARGS__)

/*  Appends s as a JSON string body (no surrounding quotes) to out, escaping
    quotes, backslashes and control characters, and replacing invalid
    UTF-8 by U+FFFD. Returns 0, -1 when the buffer ceiling is hit. */
struct vd_buf;
int vd_json_escape (struct vd_buf *out, const char *s, size_t len);

#endif
