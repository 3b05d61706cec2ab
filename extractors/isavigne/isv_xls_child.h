/*  isv_xls_child - the child process of the .xls reader (private to
    extractors/isavigne): what runs in it, libfreexl on one workbook
    writing its first worksheet to a pipe, and the parent's handle on it:
    starting it, waiting for its output within a time limit, reaping it
    and putting its end into words. The parent's reading of the stream
    is isv_xls.

    libfreexl 1.0.6 has memory bugs that a crafted workbook reaches
    (tests/fuzz/regressions/xls/): it runs only here, in a process forked
    for one file, whose death fails that file and nothing else. The child
    calls libfreexl, write(2) and _exit only: no czmq, no log, no stdio.
    It gets the workbook on fd 3, the stream on fd 4, stdout and stderr
    on a second pipe to the parent, every other descriptor closed; the
    default action for SIGINT, SIGTERM, SIGHUP, SIGPIPE and SIGQUIT, no
    signal blocked, no core file, SIGKILL when the thread that forked it
    ends, and no sanitizer death callback of the host program's.

    The stream, every integer little-endian:

      'O' u32 rows, u16 columns   the first worksheet is open; `rows` rows
                                  follow, then 'Z'
      'E' u8 step, i32 code       it could not be opened: the step that
                                  failed (isv_xls_step_t) and libfreexl's
                                  code (FREEXL_OK when none); nothing follows
      'R'                         a row: `columns` cells follow, each one of
        'N'                         an empty cell
        'I' i32                     an integer
        'D' u64                     a double, its IEEE 754 bits
        'T' u32 length, bytes       text as libfreexl gives it (dates and
                                    times included), no NUL byte,
                                    length <= ISV_MAX_LINE
        'L'                         text longer than ISV_MAX_LINE, left out
        'F' i32 code                the cell could not be read; nothing
                                    follows
      'Z'                         the end of the worksheet

    The child exits 0 after 'E', 'F' or 'Z' (ISV_XLS_EXIT_WRITE when the
    pipe is closed under it).
*/
#ifndef ISV_XLS_CHILD_H_INCLUDED
#define ISV_XLS_CHILD_H_INCLUDED

#include "isv_reader.h"

enum {
    ISV_XLS_OPENED = 'O',
    ISV_XLS_REFUSED = 'E',
    ISV_XLS_ROW = 'R',
    ISV_XLS_EMPTY = 'N',
    ISV_XLS_INT = 'I',
    ISV_XLS_DOUBLE = 'D',
    ISV_XLS_TEXT = 'T',
    ISV_XLS_LONG = 'L',
    ISV_XLS_FAULT = 'F',
    ISV_XLS_END = 'Z'
};

typedef enum {
    ISV_XLS_STEP_OPEN,     /* freexl_open, or the workbook's password flag */
    ISV_XLS_STEP_PASSWORD, /* the workbook is password-protected            */
    ISV_XLS_STEP_SHEETS,   /* no worksheet                                  */
    ISV_XLS_STEP_SHEET,    /* the first worksheet or its dimensions         */
    ISV_XLS_STEPS
} isv_xls_step_t;

#define ISV_XLS_EXIT_WRITE 3 /* the parent stopped reading          */

/*  What runs in the child once it is set up: path names the workbook,
    out is the stream's pipe. isv_xls_child_run, or a test's. */
typedef void (isv_xls_child_fn) (const char *path, int out, const void *arg);

/*  In the child: reads the workbook at path and writes the stream to
    out, then _exits (arg unused). Never returns. */
void isv_xls_child_run (const char *path, int out, const void *arg) __attribute__ ((noreturn));

//  The parent's side

typedef struct {
    pid_t pid;         /* the child until reaped, or 0              */
    int data;          /* the stream (a pipe's read end), or -1     */
    int errors;        /* its stdout and stderr (read end), or -1   */
    int64_t limit_ms;  /* the parent's waits for it, summed: at most */
    int64_t waited_ms; /* so far                                    */
    char line[200];    /* its stderr: the line being read           */
    size_t len;        /* its bytes, past the first 199 dropped      */
    char first[200];   /* the first line with a letter               */
    char summary[200]; /* the last "SUMMARY: " line (a sanitizer's)  */
} isv_xls_child_t;

/*  No child yet; data may then be set to read a stream without one. */
void isv_xls_child_init (isv_xls_child_t *self, int64_t limit_ms);

/*  Forks the child, which runs fn (arg its argument) on the workbook
    open on src (the parent closes src afterwards). 0, -1 with err. */
int isv_xls_child_start (isv_xls_child_t *self, int src, isv_xls_child_fn *fn, const void *arg,
                         vd_error_t *err);

/*  Waits until the stream can be read (or ends), reading the child's
    stderr meanwhile. 0, or -1 with errno: ETIMEDOUT when the time limit
    is spent, EINTR when the process is being stopped (zsys_interrupted),
    else poll's. */
int isv_xls_child_wait (isv_xls_child_t *self);

/*  Waits for the child's end, killing it first when kill_it or once the
    time limit is spent; reads its stderr to the end and reaps it.
    Returns its wait status, or -1 when there is none (no child). */
int isv_xls_child_reap (isv_xls_child_t *self, bool kill_it);

/*  The child's end in words, from the status isv_xls_child_reap gave:
    "killed by signal 6 (Aborted)", "exit status 1", then "; its stderr:
    " and its summary line (else its first line), when it wrote one. */
void isv_xls_child_describe (const isv_xls_child_t *self, int status, char *out, size_t size);

/*  Kills and reaps the child when it still runs, closes the pipes. */
void isv_xls_child_close (isv_xls_child_t *self);

#endif
