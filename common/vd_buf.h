/*  vd_buf - growable byte buffer with a ceiling (curl's dynbuf rule).

    Every buffer fed from outside has a maximum size; an append that would
    pass it fails with -1 and leaves the buffer as it was.
*/
#ifndef VD_BUF_H_INCLUDED
#define VD_BUF_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct vd_buf {
    char *data; /* always NUL-terminated when not NULL */
    size_t len;
    size_t cap;
    size_t max;     /* ceiling in bytes, excluding the NUL */
    bool truncated; /* an append failed since init / reset   */
} vd_buf_t;

/*  Initialises an empty buffer that may grow up to max bytes. */
void vd_buf_init (vd_buf_t *b, size_t max);
/*  Frees the storage; the buffer may be reused after vd_buf_init. */
void vd_buf_free (vd_buf_t *b);
/*  Empties the buffer, keeping its storage. */
void vd_buf_reset (vd_buf_t *b);
/*  Cuts the buffer back to its first len bytes (len <= b->len): what was
    appended since, a line left half-written by a failed append, goes. */
void vd_buf_truncate (vd_buf_t *b, size_t len);
/*  Appends len bytes; returns 0, or -1 (ceiling or out of memory). */
int vd_buf_add (vd_buf_t *b, const void *mem, size_t len);
int vd_buf_addstr (vd_buf_t *b, const char *s);
/*  Room for extra bytes at data + len, for a writer that fills them in
    place then calls vd_buf_grown with what it wrote (at most extra).
    0, -1 as vd_buf_add would for extra bytes. */
int vd_buf_reserve (vd_buf_t *b, size_t extra);
void vd_buf_grown (vd_buf_t *b, size_t n);
int vd_buf_addc (vd_buf_t *b, char c);
/*  Appends n in decimal (a hot path: no printf). */
int vd_buf_add_int (vd_buf_t *b, int64_t n);
int vd_buf_printf (vd_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/*  The content as a string ("" when empty); borrowed. */
const char *vd_buf_str (const vd_buf_t *b);
/*  Hands the content to the caller (malloc'ed, NUL-terminated; never NULL
    unless out of memory) and empties the buffer. */
char *vd_buf_take (vd_buf_t *b);
/*  Appends everything read from fd until end of file (EINTR retried).
    Returns 0, -1 on a read error or past the ceiling (errno EFBIG). */
int vd_buf_read_fd (vd_buf_t *b, int fd);
/*  Writes len bytes of data to fd, however many write(2) calls it takes
    (EINTR retried). Returns 0, -1 with errno. Async-signal-safe: a
    forked child may call it. */
int vd_buf_write_fd (int fd, const void *data, size_t len);

int vd_buf_test (bool verbose);

#endif
