/*  isv_lines - the per-line hashes of the file being read (issue 14).

    A line's hash is BLAKE2b-128, keyed by everything its canonical values
    depend on besides its own bytes (isv_lines_key: the file's layout,
    encoding, unit table, products' packagings...). Each line read gets an
    entry (line number, hash), sent to the loader in HASHES messages; the
    set trusted from the file's last good read (the orchestrator's answer
    to "line_hashes") says which lines are unchanged and need not be sent.

    A CSV line is hashed on its bytes as read, before any conversion (so
    an unchanged line costs its hash and nothing else); a spreadsheet row
    on its fields, as the reader gives them.
*/
#ifndef ISV_LINES_H_INCLUDED
#define ISV_LINES_H_INCLUDED

#include "vendange.h"
#include <czmq.h>

#define ISV_LINE_HASH 16
#define ISV_HASH_BATCH 50000 /* entries per HASHES message */

typedef struct isv_lines isv_lines_t;

isv_lines_t *isv_lines_new (void);
void isv_lines_destroy (isv_lines_t **self_p);

/*  Starts a file: its key (ISV_LINE_HASH bytes) and the trusted set of
    its last good read (ISV_LINE_HASH-byte hashes; taken, NULL: none).
    Returns 0, -1 when out of memory (then no line is known). */
int isv_lines_begin (isv_lines_t *self, const uint8_t *key, zframe_t **known_p);

/*  Hashes a line read as bytes (CSV) or as fields (the first width; and
    the text the extractor attaches to it, NULL when none) and adds its
    entry. Returns 1 when the trusted set holds it (unchanged), 0 when not,
    -1 when out of memory. */
int isv_lines_bytes (isv_lines_t *self, long line, const char *data, size_t len);
int isv_lines_fields (isv_lines_t *self, long line, const char *const *fields,
                      const size_t *lengths, size_t nfields, size_t width, const char *attached);

/*  Entries added since the last isv_lines_take (VD_MSG_LINE_ENTRY bytes
    each), and their count; isv_lines_take forgets them. */
const uint8_t *isv_lines_entries (const isv_lines_t *self, size_t *count);
void isv_lines_take (isv_lines_t *self);
/*  Lines hashed in the file; lines the trusted set holds. */
int64_t isv_lines_hashed (const isv_lines_t *self);
size_t isv_lines_known (const isv_lines_t *self);

int isv_lines_test (bool verbose);

#endif
