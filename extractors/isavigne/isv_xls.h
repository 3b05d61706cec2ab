/*  isv_xls - rows of the first worksheet of a .xls (BIFF) workbook for
    isv_reader, read with libfreexl in a child process (private to
    extractors/isavigne).

    libfreexl reads past its buffers on some malformed workbooks, so it
    never runs in the extractor: isv_xls_open forks a child
    (isv_xls_child) that opens the file with libfreexl and streams the
    worksheet's cells back over a pipe; rows are then handed out one at a
    time as the stream arrives. The stream is checked as untrusted input:
    every length is bounded, and a stream that ends early or breaks its
    format fails the file. So does a child that dies (a signal, a
    non-zero exit, a sanitizer's report) or that the extractor waits for
    longer than ISV_XLS_CHILD_MS in all: the file fails with "the xls
    reader crashed" (its exit status, and the summary line of what it
    wrote on stderr, in the detail), "the xls reader timed out" or "the
    xls reader sent malformed output", and the extractor goes on with the
    next file. The child is killed and reaped by isv_xls_destroy.

    libfreexl loads the whole workbook, so the file size has a ceiling
    (ISV_XLS_MAX_BYTES); a worksheet larger than the format allows
    (ISV_XLS_MAX_ROWS x ISV_XLS_MAX_COLUMNS) is refused. Dates come as
    "yyyy-mm-dd", "yyyy-mm-dd HH:MM:SS" or "HH:MM:SS" (libfreexl reads the
    cell formats); numbers as plain decimals.
*/
#ifndef ISV_XLS_H_INCLUDED
#define ISV_XLS_H_INCLUDED

#include "isv_reader.h"

#define ISV_XLS_MAX_BYTES (128L * 1024 * 1024)
#define ISV_XLS_MAX_ROWS 65536u /* BIFF8's limits */
#define ISV_XLS_MAX_COLUMNS 256u
#define ISV_XLS_CHILD_MS 60000 /* waiting for the child, summed over the file */

typedef struct isv_xls isv_xls_t;

/*  Opens path: starts the child and reads its answer. Returns NULL with
    err set when the file is not a readable .xls workbook with a
    worksheet, or when the child failed. */
isv_xls_t *isv_xls_open (const char *path, vd_error_t *err);

/*  Reads a stream as the child writes it from fd (taken: closed by
    isv_xls_destroy), with no child: the fuzz target and the tests of the
    parent's checks. Returns NULL with err set as isv_xls_open. */
isv_xls_t *isv_xls_open_stream (int fd, vd_error_t *err);

/*  As isv_reader_next. */
int isv_xls_next (isv_xls_t *self, isv_row_t *row, vd_error_t *err);

/*  Kills the child when it still runs, and reaps it. */
void isv_xls_destroy (isv_xls_t **self_p);

/*  Self test (crashing, hanging and lying children included). Returns 0
    when every check passes. */
int isv_xls_test (bool verbose);

#endif
