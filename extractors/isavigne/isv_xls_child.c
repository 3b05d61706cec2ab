/*  isv_xls_child - the .xls reader's child process (see isv_xls_child.h).

    Its first half runs in the child, a process forked from a threaded
    one: only libfreexl, memcpy, write(2) (vd_buf_write_fd), the system
    calls that set it up, and _exit there. The second half is the
    parent's.
*/
#include "vendange.h"
#include "isv_xls_child.h"
#include <czmq.h>
#include <fcntl.h>
#include <freexl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define SLICE_MS 250  /* longest poll: zsys_interrupted is checked between */
#define GRACE_MS 5000 /* for the stderr of a killed child to end         */

//  A sanitizer's death callback is the parent's (libFuzzer's records the
//  parent's input as a crash): the child's death is reported through its
//  exit status instead. NULL unless the program is built with one.
extern void __sanitizer_set_death_callback (void (*callback) (void)) __attribute__ ((weak));

// --------------------------------------------------------------------------
//  In the child

typedef struct {
    int fd;
    size_t len;
    unsigned char data[64 * 1024];
} s_out_t;

static void
s_flush (s_out_t *out)
{
    if (vd_buf_write_fd (out->fd, out->data, out->len) < 0)
        _exit (ISV_XLS_EXIT_WRITE);
    out->len = 0;
}

static void
s_put (s_out_t *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        if (out->len == sizeof out->data)
            s_flush (out);
        size_t n = sizeof out->data - out->len;
        n = n < len ? n : len;
        memcpy (out->data + out->len, p, n);
        out->len += n;
        p += n;
        len -= n;
    }
}

//  A tag then an unsigned integer of size bytes, little-endian
static void
s_put_tagged (s_out_t *out, int tag, uint64_t value, size_t size)
{
    unsigned char bytes[9] = {(unsigned char)tag};
    for (size_t i = 0; i < size; i++)
        bytes[1 + i] = (unsigned char)(value >> (8 * i));
    s_put (out, bytes, 1 + size);
}

static void __attribute__ ((noreturn)) s_end (s_out_t *out)
{
    s_flush (out);
    _exit (0);
}

//  Opens the workbook and its first worksheet. Returns the step that
//  failed, or ISV_XLS_STEPS; *code is libfreexl's
static isv_xls_step_t
s_open (const char *path, const void **handle, unsigned int *rows, unsigned short *columns,
        int *code)
{
    unsigned int info = 0;
    *code = freexl_open (path, handle);
    if (*code == FREEXL_OK)
        *code = freexl_get_info (*handle, FREEXL_BIFF_PASSWORD, &info);
    if (*code != FREEXL_OK)
        return ISV_XLS_STEP_OPEN;
    if (info == FREEXL_BIFF_OBFUSCATED)
        return ISV_XLS_STEP_PASSWORD;
    *code = freexl_get_info (*handle, FREEXL_BIFF_SHEET_COUNT, &info);
    if (*code != FREEXL_OK || info == 0)
        return ISV_XLS_STEP_SHEETS;
    *code = freexl_select_active_worksheet (*handle, 0);
    if (*code == FREEXL_OK)
        *code = freexl_worksheet_dimensions (*handle, rows, columns);
    return *code == FREEXL_OK ? ISV_XLS_STEPS : ISV_XLS_STEP_SHEET;
}

static void
s_put_cell (s_out_t *out, const FreeXL_CellValue *cell)
{
    uint64_t bits;
    size_t len;
    switch (cell->type) {
    case FREEXL_CELL_INT:
        s_put_tagged (out, ISV_XLS_INT, (uint32_t)cell->value.int_value, 4);
        break;
    case FREEXL_CELL_DOUBLE:
        memcpy (&bits, &cell->value.double_value, sizeof bits);
        s_put_tagged (out, ISV_XLS_DOUBLE, bits, 8);
        break;
    case FREEXL_CELL_TEXT:
    case FREEXL_CELL_SST_TEXT:
    case FREEXL_CELL_DATE:
    case FREEXL_CELL_DATETIME:
    case FREEXL_CELL_TIME:
        len = cell->value.text_value ? strlen (cell->value.text_value) : 0;
        if (len > ISV_MAX_LINE)
            s_put_tagged (out, ISV_XLS_LONG, 0, 0);
        else {
            s_put_tagged (out, ISV_XLS_TEXT, len, 4);
            s_put (out, cell->value.text_value, len);
        }
        break;
    default: //  FREEXL_CELL_NULL
        s_put_tagged (out, ISV_XLS_EMPTY, 0, 0);
    }
}

void
isv_xls_child_run (const char *path, int fd, const void *arg)
{
    (void)arg;
    s_out_t out = {.fd = fd};
    const void *handle = NULL;
    unsigned int rows = 0;
    unsigned short columns = 0;
    int code = FREEXL_OK;
    //  Nothing is freed: the process ends with the worksheet
    isv_xls_step_t step = s_open (path, &handle, &rows, &columns, &code);
    if (step != ISV_XLS_STEPS) {
        s_put_tagged (&out, ISV_XLS_REFUSED, step | (uint64_t)(uint32_t)code << 8, 5);
        s_end (&out);
    }
    s_put_tagged (&out, ISV_XLS_OPENED, rows | (uint64_t)columns << 32, 6);
    for (unsigned int row = 0; row < rows; row++) {
        s_put_tagged (&out, ISV_XLS_ROW, 0, 0);
        for (unsigned short col = 0; col < columns; col++) {
            FreeXL_CellValue cell;
            code = freexl_get_cell_value (handle, row, col, &cell);
            if (code != FREEXL_OK) {
                s_put_tagged (&out, ISV_XLS_FAULT, (uint32_t)code, 4);
                s_end (&out);
            }
            s_put_cell (&out, &cell);
        }
    }
    s_put_tagged (&out, ISV_XLS_END, 0, 0);
    s_end (&out);
}

//  Sets the child up, then runs fn: never returns
static void __attribute__ ((noreturn))
s_child (int src, int out, int errors, pid_t parent, isv_xls_child_fn *fn, const void *arg)
{
    //  Dies with the thread that forked it; no core file of a workbook
    (void)prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (ISV_XLS_EXIT_WRITE);
    struct rlimit none = {0, 0};
    (void)setrlimit (RLIMIT_CORE, &none);
    //  The extractor's handlers (czmq's SIGINT / SIGTERM) are not the
    //  child's; no signal blocked
    static const int reset[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        (void)sigaction (reset[i], &dfl, NULL);
    sigset_t all;
    sigemptyset (&all);
    (void)sigprocmask (SIG_SETMASK, &all, NULL);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback (NULL);
    //  stdout and stderr to the parent, the workbook on 3, the stream on
    //  4; every other descriptor closed (stdin left as it is)
    int s = fcntl (src, F_DUPFD, 5), o = fcntl (out, F_DUPFD, 5), e = fcntl (errors, F_DUPFD, 5);
    if (s < 0 || o < 0 || e < 0 || dup2 (e, 1) < 0 || dup2 (e, 2) < 0 || dup2 (s, 3) < 0 ||
        dup2 (o, 4) < 0)
        _exit (ISV_XLS_EXIT_WRITE);
    if (close_range (5, ~0U, 0) < 0) {
        struct rlimit files = {1024, 1024};
        (void)getrlimit (RLIMIT_NOFILE, &files);
        for (rlim_t fd = 5; fd < files.rlim_cur && fd < INT_MAX; fd++)
            (void)close ((int)fd); //  EBADF for most
    }
    fn ("/proc/self/fd/3", 4, arg);
    _exit (0);
}

// --------------------------------------------------------------------------
//  The parent's side

static int64_t
s_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
isv_xls_child_init (isv_xls_child_t *self, int64_t limit_ms)
{
    memset (self, 0, sizeof *self);
    self->data = self->errors = -1;
    self->limit_ms = limit_ms;
}

//  A whole line of its stderr: kept when it is the first with a letter,
//  or a sanitizer's summary
static void
s_stderr_line (isv_xls_child_t *e)
{
    e->line[e->len] = '\0';
    bool letter = false;
    for (size_t i = 0; i < e->len && !letter; i++)
        letter = isalpha ((unsigned char)e->line[i]);
    if (strncmp (e->line, "SUMMARY: ", 9) == 0)
        snprintf (e->summary, sizeof e->summary, "%s", e->line);
    else if (letter && !e->first[0])
        snprintf (e->first, sizeof e->first, "%s", e->line);
    e->len = 0;
}

//  Reads what the child wrote on stderr; closes it at its end
static void
s_read_stderr (isv_xls_child_t *self)
{
    char chunk[1024];
    ssize_t n = read (self->errors, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (self->len)
            s_stderr_line (self);
        close (self->errors);
        self->errors = -1;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)chunk[i];
        if (c == '\n')
            s_stderr_line (self);
        else if (self->len < sizeof self->line - 1)
            self->line[self->len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
}

int
isv_xls_child_start (isv_xls_child_t *self, int src, isv_xls_child_fn *fn, const void *arg,
                     vd_error_t *err)
{
    int data[2] = {-1, -1}, errors[2] = {-1, -1};
    pid_t parent = getpid ();
    pid_t pid = -1;
    if (pipe2 (data, O_CLOEXEC) == 0 && pipe2 (errors, O_CLOEXEC) == 0)
        pid = fork ();
    if (pid == 0)
        s_child (src, data[1], errors[1], parent, fn, arg);
    if (pid < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not start the xls reader");
        vd_error_detail (err, "%s", strerror (errno));
    } else {
        self->pid = pid;
        self->data = data[0];
        self->errors = errors[0];
        data[0] = errors[0] = -1;
    }
    for (int i = 0; i < 2; i++) {
        if (data[i] >= 0)
            close (data[i]);
        if (errors[i] >= 0)
            close (errors[i]);
    }
    return pid < 0 ? -1 : 0;
}

int
isv_xls_child_wait (isv_xls_child_t *self)
{
    while (true) {
        int64_t left = self->limit_ms - self->waited_ms;
        if (zsys_interrupted || left <= 0) {
            errno = zsys_interrupted ? EINTR : ETIMEDOUT;
            return -1;
        }
        struct pollfd fds[2] = {{.fd = self->data, .events = POLLIN},
                                {.fd = self->errors, .events = POLLIN}}; /* -1: ignored */
        int64_t began = s_clock_ms ();
        int n = poll (fds, 2, (int)(left < SLICE_MS ? left : SLICE_MS));
        self->waited_ms += s_clock_ms () - began;
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && fds[1].revents)
            s_read_stderr (self);
        if (n > 0 && fds[0].revents)
            return 0;
    }
}

int
isv_xls_child_reap (isv_xls_child_t *self, bool kill_it)
{
    if (self->pid <= 0)
        return -1;
    if (kill_it)
        (void)kill (self->pid, SIGKILL); //  ours and not reaped: cannot fail
    int64_t killed_at = kill_it ? self->waited_ms : -1;
    while (self->errors >= 0) {
        if (killed_at < 0 && self->waited_ms >= self->limit_ms) {
            (void)kill (self->pid, SIGKILL);
            killed_at = self->waited_ms;
        }
        if (killed_at >= 0 && self->waited_ms - killed_at > GRACE_MS)
            break; //  something else holds its stderr open
        struct pollfd pfd = {.fd = self->errors, .events = POLLIN};
        int64_t began = s_clock_ms ();
        int n = poll (&pfd, 1, SLICE_MS);
        self->waited_ms += s_clock_ms () - began;
        if (n > 0)
            s_read_stderr (self);
        else if (n < 0 && errno != EINTR)
            break;
    }
    int status = -1;
    pid_t got;
    do
        got = waitpid (self->pid, &status, 0);
    while (got < 0 && errno == EINTR);
    self->pid = 0;
    return got < 0 ? -1 : status; //  ECHILD: SIGCHLD ignored, reaped already
}

void
isv_xls_child_describe (const isv_xls_child_t *self, int status, char *out, size_t size)
{
    if (status < 0)
        snprintf (out, size, "no exit status");
    else if (WIFSIGNALED (status))
        snprintf (out, size, "killed by signal %d (%s)", WTERMSIG (status),
                  sigdescr_np (WTERMSIG (status)) ?: "unknown");
    else
        snprintf (out, size, "exit status %d", WEXITSTATUS (status));
    const char *said = self->summary[0] ? self->summary : self->first;
    if (*said) {
        size_t len = strlen (out);
        snprintf (out + len, size - len, "; its stderr: %s", said);
    }
}

void
isv_xls_child_close (isv_xls_child_t *self)
{
    (void)isv_xls_child_reap (self, true); //  when it still runs; nothing to say now
    if (self->data >= 0)
        close (self->data);
    if (self->errors >= 0)
        close (self->errors);
    self->data = self->errors = -1;
}
