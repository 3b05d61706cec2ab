/*  orch_active - the runs this orchestrator handed to an extractor and
    tracks until they are recorded success, partial or failed.

    In memory only: an orchestrator that restarts fails the runs it finds
    'running' (orch_runs_recover), so this list is always complete.
*/
#ifndef ORCH_ACTIVE_H_INCLUDED
#define ORCH_ACTIVE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t id;
    char connector[72];
    char extractor[160];      /* instance the run was handed to            */
    int64_t last_activity_ms; /* last progress / extracted / loaded        */
    int64_t last_touch_ms;    /* last write of last_progress_at            */
    json_t *extracted;        /* the extractor's "extracted" message       */
    bool loaded;              /* the loader's "loaded" came                */
    int64_t loaded_records;
    json_t *failure;      /* decided failure, not yet recorded         */
    bool db_error_logged; /* a failed write was already logged         */
} orch_active_run_t;

typedef struct orch_active orch_active_t;

orch_active_t *orch_active_new (void);
void orch_active_destroy (orch_active_t **self_p);

/*  Adds a run; NULL when out of memory. */
orch_active_run_t *orch_active_add (orch_active_t *self, int64_t id, const char *connector,
                                    const char *extractor, int64_t now_ms);
/*  The run with that id, or NULL. */
orch_active_run_t *orch_active_find (orch_active_t *self, int64_t id);
/*  Removes and frees a run (its JSON included). */
void orch_active_remove (orch_active_t *self, int64_t id);
size_t orch_active_size (orch_active_t *self);
orch_active_run_t *orch_active_at (orch_active_t *self, size_t i);

/*  Remembers that a run ended well, so late messages about it are not
    mistaken for stale work (last 64 runs). */
void orch_active_remember (orch_active_t *self, int64_t id);
bool orch_active_recent (orch_active_t *self, int64_t id);

/*  Self test. Returns 0 when every check passes. */
int orch_active_test (bool verbose);

#endif
