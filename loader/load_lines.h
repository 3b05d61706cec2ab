/*  load_lines - the per-line hashes of the files a run read (HASHES
    messages, see vd_msg.h), kept in ops.line_hashes at the run's end.

    An extractor hashes every line it reads and leaves out those whose
    hash is in the file's set of the last good run: they are unchanged
    since, and never reach the normalizer nor the server. The loader
    collects the run's entries (line number, hash) per file and, in the
    run's last transaction, replaces the file's set with the hashes of its
    lines but the rejected ones (ops.rejects of the run): a rejected line
    is read again next time, and rejected again with its reason.

    A set is kept with the fingerprint of the normalizer's rules (CANON
    "rules"): lines are only left out under the rules they were read with.
    When a file's lines were left out under other rules than those its
    records were just normalised with, the run fails (its next run, after
    a failure, compares every line). A file whose entries do not add up
    to what END announced, or whose records came under two fingerprints,
    keeps no set (the next run compares every line).
*/
#ifndef LOAD_LINES_H_INCLUDED
#define LOAD_LINES_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"
#include "vd_msg.h"

#define LOAD_LINES_MAX ((size_t)3000 * 1000) /* lines a file's set holds at most */

typedef struct load_lines load_lines_t;

load_lines_t *load_lines_new (void);
void load_lines_destroy (load_lines_t **self_p);

/*  Adds a HASHES message. Returns 0, -1 with err when it is malformed. */
int load_lines_add (load_lines_t *self, const vd_msg_t *msg, vd_error_t *err);
/*  Notes the rules fingerprint of a CANON message of file. */
void load_lines_canon (load_lines_t *self, const char *file, size_t file_len, const char *rules,
                       size_t rules_len);

/*  Stores the sets (in the caller's transaction): hashed is END's
    {file: entries}. Returns 0; -1 with err (PERMANENT: the rules changed
    under the run, or a database error). */
int load_lines_store (load_lines_t *self, PGconn *conn, int64_t run_id, const char *connector,
                      const json_t *hashed, vd_error_t *err);

int load_lines_test (bool verbose);

#endif
