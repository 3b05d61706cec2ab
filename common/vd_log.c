/*  vd_log - JSON lines on stderr. */
#include "vendange.h"
#include <sys/time.h>

static char s_service[32] = "vendange";
static vd_log_level_t s_min_level = VD_LOG_INFO;
static _Thread_local int64_t s_run_id;

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

void
vd_log_init (const char *service, vd_log_level_t min_level)
{
    snprintf (s_service, sizeof s_service, "%s", service);
    s_min_level = min_level;
}

int
vd_log_level_parse (const char *name, vd_log_level_t *level)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp (name, s_level_names[i]) == 0) {
            *level = (vd_log_level_t)i;
            return 0;
        }
    if (strcasecmp (name, "warning") == 0) {
        *level = VD_LOG_WARN;
        return 0;
    }
    return -1;
}

void
vd_log_set_run (int64_t run_id)
{
    s_run_id = run_id;
}

/*  Appends one UTF-8 sequence starting at s (at most len bytes) or U+FFFD;
    returns the number of input bytes consumed. */
static size_t
s_utf8_copy (vd_buf_t *out, const unsigned char *s, size_t len, int *rc)
{
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    if (n == 1 || !vd_utf8_valid ((const char *)s, n <= len ? n : len) || n > len) {
        *rc |= vd_buf_addstr (out, "\xEF\xBF\xBD");
        return 1;
    }
    *rc |= vd_buf_add (out, s, n);
    return n;
}

int
vd_json_escape (vd_buf_t *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    int rc = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            rc |= vd_buf_addc (out, '\\');
            rc |= vd_buf_addc (out, (char)c);
        } else if (c == '\n')
            rc |= vd_buf_addstr (out, "\\n");
        else if (c == '\r')
            rc |= vd_buf_addstr (out, "\\r");
        else if (c == '\t')
            rc |= vd_buf_addstr (out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            rc |= vd_buf_printf (out, "\\u%04x", c);
        else if (c >= 0x80) {
            i += s_utf8_copy (out, s + i, len - i, &rc);
            continue;
        } else
            rc |= vd_buf_addc (out, (char)c);
        i++;
    }
    return rc ? -1 : 0;
}

static void
s_emit (vd_log_level_t level, const char *detail, const char *hint, const char *file, long line,
        const char *msg)
{
    if (level < s_min_level)
        return;
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    char ts[40];
    strftime (ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    vd_buf_t b;
    vd_buf_init (&b, 64 * 1024);
    vd_buf_printf (&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"service\":\"%s\"", ts,
                   (long)tv.tv_usec / 1000, s_level_names[level], s_service);
    if (s_run_id)
        vd_buf_printf (&b, ",\"run_id\":%" PRId64, s_run_id);
    vd_buf_addstr (&b, ",\"msg\":\"");
    vd_json_escape (&b, msg, strlen (msg));
    vd_buf_addc (&b, '"');
    if (file && *file) {
        vd_buf_addstr (&b, ",\"file\":\"");
        vd_json_escape (&b, file, strlen (file));
        vd_buf_addc (&b, '"');
        if (line > 0)
            vd_buf_printf (&b, ",\"line\":%ld", line);
    }
    if (detail && *detail) {
        vd_buf_addstr (&b, ",\"detail\":\"");
        vd_json_escape (&b, detail, strlen (detail));
        vd_buf_addc (&b, '"');
    }
    if (hint && *hint) {
        vd_buf_addstr (&b, ",\"hint\":\"");
        vd_json_escape (&b, hint, strlen (hint));
        vd_buf_addc (&b, '"');
    }
    vd_buf_addstr (&b, "}\n");
    /* one write per line so lines of concurrent threads never interleave */
    ssize_t rc = write (STDERR_FILENO, vd_buf_str (&b), b.len);
    (void)rc; /* nowhere left to report a failed log write */
    vd_buf_free (&b);
}

void
vd_log (vd_log_level_t level, const char *fmt, ...)
{
    if (level < s_min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    s_emit (level, NULL, NULL, NULL, 0, msg);
}

void
vd_log_detail (vd_log_level_t level, const char *detail, const char *hint, const char *fmt, ...)
{
    if (level < s_min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    s_emit (level, detail, hint, NULL, 0, msg);
}

void
vd_log_error (vd_log_level_t level, const vd_error_t *err)
{
    s_emit (level, err->detail, err->hint, err->file, err->line, err->msg);
}
