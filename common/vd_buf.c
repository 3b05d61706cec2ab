/*  vd_buf - growable byte buffer with a ceiling. */
#include "vendange.h"

void
vd_buf_init (vd_buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->truncated = false;
}

void
vd_buf_free (vd_buf_t *b)
{
    free (b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
vd_buf_reset (vd_buf_t *b)
{
    b->len = 0;
    b->truncated = false;
    if (b->data)
        b->data[0] = '\0';
}

void
vd_buf_truncate (vd_buf_t *b, size_t len)
{
    if (len > b->len)
        return;
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

static int __attribute__ ((noinline)) s_grow (vd_buf_t *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        b->truncated = true;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc (b->data, cap);
    if (!data) {
        b->truncated = true;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

/*  Room for extra more bytes and the NUL: the common case (room enough,
    under the ceiling) inline, growth apart. */
static inline int
s_reserve (vd_buf_t *b, size_t extra)
{
    if (b->cap > b->len + 1 && extra < b->cap - b->len - 1 && extra <= b->max &&
        b->len <= b->max - extra)
        return 0;
    return s_grow (b, extra);
}

int
vd_buf_add (vd_buf_t *b, const void *mem, size_t len)
{
    if (s_reserve (b, len) < 0)
        return -1;
    if (len)
        memcpy (b->data + b->len, mem, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int
vd_buf_reserve (vd_buf_t *b, size_t extra)
{
    return s_reserve (b, extra);
}

void
vd_buf_grown (vd_buf_t *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

int
vd_buf_addstr (vd_buf_t *b, const char *s)
{
    return vd_buf_add (b, s, strlen (s));
}

int
vd_buf_add_int (vd_buf_t *b, int64_t n)
{
    char tmp[24];
    size_t k = sizeof tmp;
    uint64_t mag = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    do {
        tmp[--k] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (n < 0)
        tmp[--k] = '-';
    return vd_buf_add (b, tmp + k, sizeof tmp - k);
}

int
vd_buf_addc (vd_buf_t *b, char c)
{
    if (s_reserve (b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

int
vd_buf_printf (vd_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char small[256];
    int n = vsnprintf (small, sizeof small, fmt, ap);
    va_end (ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return vd_buf_add (b, small, (size_t)n);
    if (s_reserve (b, (size_t)n) < 0)
        return -1;
    va_start (ap, fmt);
    vsnprintf (b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end (ap);
    b->len += (size_t)n;
    return 0;
}

const char *
vd_buf_str (const vd_buf_t *b)
{
    return b->data ? b->data : "";
}

int
vd_buf_read_fd (vd_buf_t *b, int fd)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read (fd, chunk, sizeof chunk);
        if (n == 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (vd_buf_add (b, chunk, (size_t)n) < 0) {
            errno = EFBIG;
            return -1;
        }
    }
}

int
vd_buf_write_fd (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

char *
vd_buf_take (vd_buf_t *b)
{
    char *s = b->data ? b->data : strdup ("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

int
vd_buf_test (bool verbose)
{
    int failures = 0;
    vd_buf_t b;
    vd_buf_init (&b, 8);
    VD_CHECK (&failures, vd_buf_addstr (&b, "abcdef") == 0 && b.len == 6);
    /* past the ceiling: refused, the flag set, what was there kept */
    VD_CHECK (&failures, vd_buf_addstr (&b, "ghi") < 0 && b.truncated && b.len == 6);
    /* a half-written line cut back */
    vd_buf_truncate (&b, 3);
    VD_CHECK (&failures, b.len == 3 && strcmp (vd_buf_str (&b), "abc") == 0);
    vd_buf_truncate (&b, 5); /* longer than the buffer: nothing happens */
    VD_CHECK (&failures, b.len == 3);
    vd_buf_free (&b);
    if (verbose)
        printf ("  vd_buf: %d failures\n", failures);
    return failures ? -1 : 0;
}
