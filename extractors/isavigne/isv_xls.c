/*  isv_xls - rows of the first worksheet of a .xls workbook, read by a
    child process (see isv_xls.h): the parent's reading of the child's
    stream. Starting, waiting for and reaping the child, and what runs in
    it, are isv_xls_child.
*/
#include "vendange.h"
#include "isv_xls.h"
#include "isv_xls_child.h"
#include "isv_fields.h"
#include <fcntl.h>
#include <freexl.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct isv_xls {
    isv_xls_child_t child; /* the child and the stream's descriptor */
    bool ended;            /* 'Z' read, or the file failed: no more rows */
    size_t start, end;     /* unread bytes of in                     */
    unsigned char in[64 * 1024];
    unsigned int rows; /* announced                                 */
    unsigned int columns;
    unsigned int row; /* rows read                                  */
    vd_buf_t text;    /* one cell's text                            */
    char long_error[64];
    isv_fields_t fields;
};

static const char *
s_freexl_error (int rc)
{
    switch (rc) {
    case FREEXL_FILE_NOT_FOUND:
        return "file not found";
    case FREEXL_INSUFFICIENT_MEMORY:
        return "out of memory";
    case FREEXL_INVALID_CFBF_HEADER:
    case FREEXL_CFBF_INVALID_SIGNATURE:
        return "not an OLE2 compound file";
    case FREEXL_CFBF_READ_ERROR:
    case FREEXL_CFBF_SEEK_ERROR:
        return "read error";
    case FREEXL_BIFF_WORKBOOK_NOT_FOUND:
        return "no workbook stream";
    case FREEXL_BIFF_INVALID_BOF:
    case FREEXL_BIFF_INVALID_SST:
    case FREEXL_BIFF_ILLEGAL_SST_INDEX:
        return "corrupt BIFF records";
    case FREEXL_UNSUPPORTED_CHARSET:
    case FREEXL_INVALID_CHARACTER:
        return "unsupported or invalid character set";
    case FREEXL_CRAFTED_FILE:
        return "corrupt or crafted file";
    default:
        return "invalid file";
    }
}

//  What each step of the child's opening says when it fails
static const char *const s_step_error[ISV_XLS_STEPS] = {
    [ISV_XLS_STEP_OPEN] = "not a valid xls file",
    [ISV_XLS_STEP_PASSWORD] = "xls file is password-protected",
    [ISV_XLS_STEP_SHEETS] = "no worksheet in xls file",
    [ISV_XLS_STEP_SHEET] = "could not read the first worksheet of the xls file",
};

static bool
s_clean_exit (int status)
{
    return status >= 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

// --------------------------------------------------------------------------
//  The stream

//  The file failed: the child is killed and reaped, and err says why.
//  why: a malformed stream, or NULL when it ended early (the child
//  probably died). Returns -1.
static int
s_broken (isv_xls_t *self, vd_error_t *err, const char *why)
{
    int status = isv_xls_child_reap (&self->child, why != NULL);
    char end[400];
    isv_xls_child_describe (&self->child, status, end, sizeof end);
    self->ended = true;
    if (!why && status >= 0 && !s_clean_exit (status)) {
        vd_error_set (err, VD_ERR_PERMANENT, "the xls reader crashed");
        vd_error_detail (err, "%s", end);
        snprintf (err->hint, sizeof err->hint,
                  "the workbook is corrupt or crafted: open it and save it again (as .xlsx)");
        return -1;
    }
    vd_error_set (err, VD_ERR_PERMANENT, "the xls reader sent malformed output");
    return vd_error_detail (err, "%s", why ? why : "it ends before the end of the worksheet");
}

//  Waits until the stream can be read. 0, -1 with err (the file failed)
static int
s_wait (isv_xls_t *self, vd_error_t *err)
{
    if (isv_xls_child_wait (&self->child) == 0)
        return 0;
    int code = errno;
    self->ended = true;
    (void)isv_xls_child_reap (&self->child, true);
    if (code == ETIMEDOUT) {
        vd_error_set (err, VD_ERR_PERMANENT, "the xls reader timed out");
        return vd_error_detail (err, "no end of the worksheet after %g s: killed",
                                (double)self->child.limit_ms / 1000);
    }
    if (code == EINTR) {
        vd_error_set (err, VD_ERR_PERMANENT, "the xls reader was stopped");
        return vd_error_detail (err, "the extractor is stopping");
    }
    vd_error_set (err, VD_ERR_PERMANENT, "could not wait for the xls reader");
    return vd_error_detail (err, "%s", strerror (code));
}

//  Copies the next n bytes of the stream. 0, -1 with err
static int
s_take (isv_xls_t *self, void *out, size_t n, vd_error_t *err)
{
    unsigned char *p = out;
    while (n > 0) {
        if (self->start == self->end) {
            self->start = self->end = 0;
            if (s_wait (self, err) < 0)
                return -1;
            ssize_t got;
            do
                got = read (self->child.data, self->in, sizeof self->in);
            while (got < 0 && errno == EINTR);
            if (got < 0 && errno == EAGAIN)
                continue;
            if (got < 0) {
                vd_error_set (err, VD_ERR_PERMANENT, "could not read from the xls reader");
                vd_error_detail (err, "%s", strerror (errno));
                self->ended = true;
                (void)isv_xls_child_reap (&self->child, true);
                return -1;
            }
            if (got == 0)
                return s_broken (self, err, NULL);
            self->end = (size_t)got;
        }
        size_t k = self->end - self->start < n ? self->end - self->start : n;
        memcpy (p, self->in + self->start, k);
        self->start += k;
        p += k;
        n -= k;
    }
    return 0;
}

//  An unsigned little-endian integer of size bytes. 0, -1 with err
static int
s_take_uint (isv_xls_t *self, size_t size, uint64_t *value, vd_error_t *err)
{
    unsigned char bytes[8];
    if (s_take (self, bytes, size, err) < 0)
        return -1;
    *value = 0;
    for (size_t i = 0; i < size; i++)
        *value |= (uint64_t)bytes[i] << (8 * i);
    return 0;
}

//  Reads the child's first record: 0 (opened), -1 with err
static int
s_start (isv_xls_t *self, vd_error_t *err)
{
    uint64_t tag, value;
    if (s_take_uint (self, 1, &tag, err) < 0)
        return -1;
    if (tag == ISV_XLS_REFUSED) {
        if (s_take_uint (self, 5, &value, err) < 0)
            return -1;
        unsigned step = value & 0xff;
        int code = (int)(int32_t)(uint32_t)(value >> 8);
        if (step >= ISV_XLS_STEPS)
            return s_broken (self, err, "unknown failed step");
        self->ended = true;
        (void)isv_xls_child_reap (&self->child, false); //  it ends there
        vd_error_set (err, VD_ERR_PERMANENT, "%s", s_step_error[step]);
        if (code != FREEXL_OK)
            vd_error_detail (err, "libfreexl: %s (code %d)", s_freexl_error (code), code);
        return -1;
    }
    if (tag != ISV_XLS_OPENED)
        return s_broken (self, err, "no opening record");
    if (s_take_uint (self, 6, &value, err) < 0)
        return -1;
    self->rows = (unsigned int)(value & 0xffffffffu);
    self->columns = (unsigned int)(value >> 32);
    if (self->rows > ISV_XLS_MAX_ROWS || self->columns > ISV_XLS_MAX_COLUMNS) {
        self->ended = true;
        (void)isv_xls_child_reap (&self->child, true);
        vd_error_set (err, VD_ERR_PERMANENT, "xls worksheet larger than the format allows");
        return vd_error_detail (err, "%u rows, %u columns; at most %u and %u", self->rows,
                                self->columns, ISV_XLS_MAX_ROWS, ISV_XLS_MAX_COLUMNS);
    }
    return 0;
}

static isv_xls_t *
s_new (int64_t limit_ms, vd_error_t *err)
{
    isv_xls_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    isv_xls_child_init (&self->child, limit_ms);
    vd_buf_init (&self->text, ISV_MAX_LINE);
    isv_fields_init (&self->fields, ISV_MAX_LINE);
    snprintf (self->long_error, sizeof self->long_error, "row longer than %d bytes", ISV_MAX_LINE);
    return self;
}

//  Opens path in a child running child (arg its argument)
static isv_xls_t *
s_open (const char *path, isv_xls_child_fn *child, const void *arg, int64_t limit_ms,
        vd_error_t *err)
{
    isv_xls_t *self = s_new (limit_ms, err);
    if (!self)
        return NULL;
    int src = open (path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (src < 0 || fstat (src, &st) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not open file");
        vd_error_detail (err, "%s", strerror (errno));
    } else if (st.st_size > ISV_XLS_MAX_BYTES) {
        vd_error_set (err, VD_ERR_PERMANENT, "xls file too large");
        vd_error_detail (err, "%lld bytes, at most %ld", (long long)st.st_size, ISV_XLS_MAX_BYTES);
    } else if (isv_xls_child_start (&self->child, src, child, arg, err) == 0 &&
               s_start (self, err) == 0) {
        close (src);
        return self;
    }
    if (src >= 0)
        close (src);
    isv_xls_destroy (&self);
    return NULL;
}

isv_xls_t *
isv_xls_open (const char *path, vd_error_t *err)
{
    return s_open (path, isv_xls_child_run, NULL, ISV_XLS_CHILD_MS, err);
}

isv_xls_t *
isv_xls_open_stream (int fd, vd_error_t *err)
{
    isv_xls_t *self = s_new (ISV_XLS_CHILD_MS, err);
    if (!self) {
        close (fd);
        return NULL;
    }
    self->child.data = fd;
    if (s_start (self, err) < 0)
        isv_xls_destroy (&self);
    return self;
}

void
isv_xls_destroy (isv_xls_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    isv_xls_t *self = *self_p;
    isv_xls_child_close (&self->child);
    vd_buf_free (&self->text);
    isv_fields_free (&self->fields);
    free (self);
    *self_p = NULL;
}

//  A text cell's length and bytes, added to the row's fields. 0, -1 with
//  err (the file failed)
static int
s_text_cell (isv_xls_t *self, const char **error, vd_error_t *err)
{
    uint64_t len;
    if (s_take_uint (self, 4, &len, err) < 0)
        return -1;
    if (len > ISV_MAX_LINE)
        return s_broken (self, err, "a text cell over the length limit");
    vd_buf_reset (&self->text);
    for (size_t left = (size_t)len; left > 0;) {
        char chunk[4096];
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        if (s_take (self, chunk, n, err) < 0)
            return -1;
        if (memchr (chunk, '\0', n))
            return s_broken (self, err, "a NUL byte in a text cell");
        if (vd_buf_add (&self->text, chunk, n) < 0) {
            self->ended = true;
            (void)isv_xls_child_reap (&self->child, true);
            return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        }
        left -= n;
    }
    if (*error)
        return 0;
    //  libfreexl converts text to UTF-8 (iconv from the workbook's code
    //  page); a stray invalid string is read as Windows-1252
    const char *s = vd_buf_str (&self->text);
    size_t n = self->text.len;
    if ((vd_utf8_valid (s, n) ? isv_fields_add (&self->fields, s, n)
                              : isv_fields_add_converted (&self->fields, "windows-1252", s, n)) < 0)
        *error = self->long_error;
    return 0;
}

//  Reads one cell into the row's fields; *error is set (a static string)
//  once the row cannot be used. 0, -1 with err (the file failed)
static int
s_cell (isv_xls_t *self, unsigned int column, const char **error, vd_error_t *err)
{
    uint64_t tag, value;
    char text[352];
    if (s_take_uint (self, 1, &tag, err) < 0)
        return -1;
    switch (tag) {
    case ISV_XLS_EMPTY:
        text[0] = '\0';
        break;
    case ISV_XLS_LONG:
        *error = self->long_error;
        return 0;
    case ISV_XLS_INT:
        if (s_take_uint (self, 4, &value, err) < 0)
            return -1;
        snprintf (text, sizeof text, "%" PRId32, (int32_t)(uint32_t)value);
        break;
    case ISV_XLS_DOUBLE: {
        if (s_take_uint (self, 8, &value, err) < 0)
            return -1;
        double number;
        memcpy (&number, &value, sizeof number);
        if (!isfinite (number) && !*error)
            *error = "xls cell holds no finite number";
        if (!*error && isv_fields_format_number (number, text, sizeof text) < 0)
            *error = self->long_error;
        break;
    }
    case ISV_XLS_TEXT:
        return s_text_cell (self, error, err);
    case ISV_XLS_FAULT:
        if (s_take_uint (self, 4, &value, err) < 0)
            return -1;
        self->ended = true;
        (void)isv_xls_child_reap (&self->child, false); //  it ends there
        int code = (int)(int32_t)(uint32_t)value;
        vd_error_set (err, VD_ERR_PERMANENT, "could not read xls cell");
        vd_error_detail (err, "row %u, column %u: libfreexl: %s (code %d)", self->row, column + 1,
                         s_freexl_error (code), code);
        err->line = (long)self->row;
        return -1;
    default:
        return s_broken (self, err, "an unknown cell record");
    }
    if (!*error && isv_fields_add (&self->fields, text, strlen (text)) < 0)
        *error = self->long_error;
    return 0;
}

int
isv_xls_next (isv_xls_t *self, isv_row_t *row, vd_error_t *err)
{
    assert (self);
    if (self->ended)
        return 0;
    uint64_t tag;
    if (s_take_uint (self, 1, &tag, err) < 0)
        return -1;
    if (tag == ISV_XLS_END && self->row == self->rows) {
        self->ended = true;
        int status = isv_xls_child_reap (&self->child, false);
        if (status >= 0 && !s_clean_exit (status)) {
            char end[400];
            isv_xls_child_describe (&self->child, status, end, sizeof end);
            vd_error_set (err, VD_ERR_PERMANENT, "the xls reader crashed");
            return vd_error_detail (err, "%s, after the last row", end);
        }
        return 0;
    }
    if (tag != ISV_XLS_ROW || self->row == self->rows)
        return s_broken (self, err,
                         tag == ISV_XLS_END   ? "the worksheet ends before its last row"
                         : tag == ISV_XLS_ROW ? "more rows than announced"
                                              : "an unknown row record");
    long line = (long)++self->row;
    const char *error = NULL;
    isv_fields_reset (&self->fields);
    for (unsigned int col = 0; col < self->columns; col++)
        if (s_cell (self, col, &error, err) < 0) {
            if (!err->line)
                err->line = line;
            return -1;
        }
    //  Joined even for an error row: the raw text is what is left to show
    if (isv_fields_join_raw (&self->fields) < 0 && !error)
        error = self->long_error;
    if (error)
        isv_fields_error_row (&self->fields, line, error, row);
    else
        isv_fields_row (&self->fields, line, row);
    return 1;
}

// --------------------------------------------------------------------------
//  Self test

typedef struct {
    bool verbose;
    int failures;
} s_test_t;

static void
s_check (s_test_t *t, const char *name, bool ok, const char *got)
{
    if (!ok)
        t->failures++;
    if (!ok && t->verbose)
        printf ("isv_xls: FAIL %s\n  got: %s\n", name, got);
    else if (t->verbose)
        printf ("isv_xls: ok %s\n", name);
}

//  What a test child does: writes stream to the pipe and say to its
//  stderr, then exits with then (>= 0), raises -then, or hangs (S_HANG);
//  endless: then writes empty rows for ever
#define S_HANG INT_MIN
typedef struct {
    const char *stream;
    size_t len;
    const char *say;
    int then;
    bool endless;
} s_script_t;

static void
s_write_all (int fd, const char *data, size_t len)
{
    if (vd_buf_write_fd (fd, data, len) < 0)
        _exit (ISV_XLS_EXIT_WRITE);
}

static void
s_scripted (const char *path, int out, const void *arg)
{
    (void)path;
    const s_script_t *script = arg;
    s_write_all (out, script->stream, script->len);
    if (script->say)
        s_write_all (2, script->say, strlen (script->say));
    while (script->endless)
        s_write_all (out, "RNRNRNRNRNRNRNRN", 16);
    if (script->then == S_HANG)
        while (true)
            pause ();
    if (script->then < 0)
        raise (-script->then);
    _exit (script->then);
}

//  Reads every row into out: "line:f1|f2\n", "line!error\n", then
//  "fatal: msg (detail)\n" for a fatal error
static void
s_dump (isv_xls_t *xls, vd_buf_t *out)
{
    isv_row_t row;
    vd_error_t err;
    vd_error_clear (&err);
    int rc;
    while ((rc = isv_xls_next (xls, &row, &err)) == 1) {
        vd_buf_printf (out, "%ld%c", row.line, row.error ? '!' : ':');
        if (row.error)
            vd_buf_addstr (out, row.error);
        for (size_t i = 0; i < row.nfields; i++)
            vd_buf_printf (out, "%s%s", i ? "|" : "", row.fields[i]);
        vd_buf_addc (out, '\n');
    }
    if (rc < 0)
        vd_buf_printf (out, "fatal: %s (%s) line %ld\n", err.msg, err.detail, err.line);
}

//  Opens and reads, then compares with want: the rows, or "open: msg
//  (detail)" when the open fails. A child (script not NULL) must be gone.
static void
s_expect (s_test_t *t, const char *name, const s_script_t *script, const char *stream, size_t len,
          int64_t limit_ms, const char *want)
{
    vd_error_t err;
    vd_error_clear (&err);
    isv_xls_t *xls = NULL;
    pid_t pid = 0;
    if (script) {
        xls = s_open ("/dev/null", s_scripted, script, limit_ms, &err);
        pid = xls ? xls->child.pid : 0;
    } else {
        int fd = memfd_create ("isv_xls_test", MFD_CLOEXEC);
        if (fd >= 0 && (write (fd, stream, len) != (ssize_t)len || lseek (fd, 0, SEEK_SET) != 0)) {
            close (fd);
            fd = -1;
        }
        xls = fd >= 0 ? isv_xls_open_stream (fd, &err) : NULL;
    }
    vd_buf_t got;
    vd_buf_init (&got, 1024 * 1024);
    if (xls)
        s_dump (xls, &got);
    else
        vd_buf_printf (&got, "open: %s (%s)\n", err.msg, err.detail);
    isv_xls_destroy (&xls);
    bool ok = strncmp (vd_buf_str (&got), want, strlen (want)) == 0;
    if (ok && pid > 0) /* reaped: not even a zombie */
        ok = kill (pid, 0) < 0 && errno == ESRCH;
    s_check (t, name, ok, vd_buf_str (&got));
    vd_buf_free (&got);
}

#define S_DATA(s) s, sizeof (s) - 1
/*  Stream pieces: 'O' with rows and columns, a text cell of n bytes */
#define S_OPENED(rows, columns) "O" rows "\0\0\0" columns "\0"
#define S_TEXT(n, s) "T" n "\0\0\0" s

static void
s_test_streams (s_test_t *t)
{
    //  Windows-1252 text converted, numbers formatted, an empty cell, a
    //  long text making an error row, a NaN
    s_expect (t, "good", NULL,
              S_DATA (S_OPENED ("\3", "\3") "R" S_TEXT (
                  "\5", "Cuv\351e") "I\373\377\377\377"
                                    "D\0\0\0\0\0\0)@"
                                    "RN" S_TEXT ("\1", "x") "L"
                                                            "RND\0\0\0\0\0\0\370\177N"
                                                            "Z"),
              0,
              "1:Cuv\303\251e|-5|12.5\n2!row longer than 1048576 bytes\n"
              "3!xls cell holds no finite number\n");
    s_expect (t, "empty sheet", NULL, S_DATA (S_OPENED ("\0", "\0") "Z"), 0, "");
    s_expect (t, "refused", NULL, S_DATA ("E\0\346\377\377\377"), 0,
              "open: not a valid xls file (libfreexl: corrupt or crafted file (code -26))\n");
    s_expect (t, "password", NULL, S_DATA ("E\1\0\0\0\0"), 0,
              "open: xls file is password-protected ()\n");
    s_expect (t, "cell fault", NULL, S_DATA (S_OPENED ("\2", "\2") "RNIabcdRNF\352\377\377\377"), 0,
              "1:|1684234849\nfatal: could not read xls cell (row 2, column 2: libfreexl: "
              "invalid file (code -22)) line 2\n");
    //  What the parent refuses
    s_expect (t, "nothing", NULL, S_DATA (""), 0,
              "open: the xls reader sent malformed output (it ends before the end of the "
              "worksheet)\n");
    s_expect (t, "unknown step", NULL, S_DATA ("E\7\0\0\0\0"), 0,
              "open: the xls reader sent malformed output (unknown failed step)\n");
    s_expect (t, "not a stream", NULL, S_DATA ("\320\317\021\340\241\261\032\341"), 0,
              "open: the xls reader sent malformed output (no opening record)\n");
    s_expect (t, "huge sheet", NULL, S_DATA ("O\0\0\0\1\1\1"), 0,
              "open: xls worksheet larger than the format allows (16777216 rows, 257 columns");
    s_expect (t, "absurd length", NULL, S_DATA (S_OPENED ("\1", "\1") "RT\377\377\377\377abc"), 0,
              "fatal: the xls reader sent malformed output (a text cell over the length "
              "limit) line 1\n");
    s_expect (t, "short read", NULL, S_DATA (S_OPENED ("\1", "\1") "RT\12\0\0\0abc"), 0,
              "fatal: the xls reader sent malformed output (it ends before the end of the "
              "worksheet) line 1\n");
    s_expect (t, "NUL byte", NULL, S_DATA (S_OPENED ("\1", "\1") "R" S_TEXT ("\3", "a\0b") "Z"), 0,
              "fatal: the xls reader sent malformed output (a NUL byte in a text cell)");
    s_expect (t, "unknown cell", NULL, S_DATA (S_OPENED ("\1", "\1") "RQZ"), 0,
              "fatal: the xls reader sent malformed output (an unknown cell record)");
    s_expect (t, "extra row", NULL, S_DATA (S_OPENED ("\1", "\1") "RNRNZ"), 0,
              "1:\nfatal: the xls reader sent malformed output (more rows than announced)");
    s_expect (t, "early end", NULL, S_DATA (S_OPENED ("\2", "\1") "RNZ"), 0,
              "1:\nfatal: the xls reader sent malformed output (the worksheet ends before its "
              "last row)");
}

static void
s_test_children (s_test_t *t)
{
#define S_TWO_ROWS S_OPENED ("\2", "\1") "R" S_TEXT ("\1", "a")
    s_script_t script = {S_DATA (S_TWO_ROWS), NULL, -SIGABRT, false};
    s_expect (t, "killed", &script, NULL, 0, 5000,
              "1:a\nfatal: the xls reader crashed (killed by signal 6 (Aborted))");
    script = (s_script_t){S_DATA (""), "==7==\nboom: bad things\nat 0x1\nSUMMARY: Z: bad\n", 2};
    s_expect (t, "exit status", &script, NULL, 0, 5000,
              "open: the xls reader crashed (exit status 2; its stderr: SUMMARY: Z: bad)\n");
    script.say = "boom\nmore";
    s_expect (t, "stderr", &script, NULL, 0, 5000,
              "open: the xls reader crashed (exit status 2; its stderr: boom)\n");
    script = (s_script_t){S_DATA (S_TWO_ROWS "RNZ"), NULL, 1};
    s_expect (t, "exit after the end", &script, NULL, 0, 5000,
              "1:a\n2:\nfatal: the xls reader crashed (exit status 1, after the last row)");
    script = (s_script_t){S_DATA (S_TWO_ROWS), NULL, S_HANG};
    s_expect (t, "hangs", &script, NULL, 0, 300,
              "1:a\nfatal: the xls reader timed out (no end of the worksheet after 0.3 s: killed)");
    script.len = 0;
    s_expect (t, "hangs at once", &script, NULL, 0, 300,
              "open: the xls reader timed out (no end of the worksheet after 0.3 s: killed)");
    //  Destroyed while it writes: killed and reaped
    script = (s_script_t){S_DATA ("O\0\0\1\0\1\0"), NULL, 0, true}; /* 65536 rows */
    vd_error_t err;
    vd_error_clear (&err);
    isv_xls_t *xls = s_open ("/dev/null", s_scripted, &script, 5000, &err);
    pid_t pid = xls ? xls->child.pid : 0;
    isv_row_t row;
    bool ok = xls && isv_xls_next (xls, &row, &err) == 1 && isv_xls_next (xls, &row, &err) == 1;
    isv_xls_destroy (&xls);
    s_check (t, "destroyed early", ok && pid > 0 && kill (pid, 0) < 0 && errno == ESRCH, err.msg);
}

//  The finding of tests/fuzz/regressions/xls: libfreexl reads past a stack
//  buffer in freexl_open (a sanitizer's build sees it and the child dies;
//  elsewhere it reads garbage and refuses the file); the caller lives on
static void
s_test_overread (s_test_t *t)
{
    const char *root = getenv ("VD_SOURCE_DIR");
    char path[512];
    snprintf (path, sizeof path, "%s/tests/fuzz/regressions/xls/xls-freexl-iconv-overread",
              root && *root ? root : ".");
    vd_error_t err;
    vd_error_clear (&err);
    isv_xls_t *xls = isv_xls_open (path, &err);
#ifdef __SANITIZE_ADDRESS__
    bool ok = !xls && strcmp (err.msg, "the xls reader crashed") == 0 &&
              strstr (err.detail, "its stderr: SUMMARY: AddressSanitizer: stack-buffer-underflow");
#else
    bool ok = !xls && (strcmp (err.msg, "the xls reader crashed") == 0 ||
                       strcmp (err.msg, "not a valid xls file") == 0);
#endif
    char got[1100];
    snprintf (got, sizeof got, "%s (%s)", err.msg, err.detail);
    s_check (t, "libfreexl overread", ok, got);
    isv_xls_destroy (&xls);
}

int
isv_xls_test (bool verbose)
{
    s_test_t t = {.verbose = verbose};
    s_test_streams (&t);
    s_test_children (&t);
    s_test_overread (&t);
    if (verbose)
        printf ("isv_xls: %d failure(s)\n", t.failures);
    return t.failures ? 1 : 0;
}
