/*  orch_registry - the services the orchestrator knows, in memory.

    Rebuilt from heartbeats (each carries the service's whole identity),
    so an orchestrator that restarts loses nothing. An entry keeps the
    ROUTER identity frame to reach the service, what its last heartbeat
    said, and the run the orchestrator handed it (extractors).
*/
#ifndef ORCH_REGISTRY_H_INCLUDED
#define ORCH_REGISTRY_H_INCLUDED

#include "vd_error.h"
#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char instance[160];
    char role[64];
    char kind[32]; /* connector type an extractor serves, or ""   */
    char host[128];
    char version[32];
    char state[16]; /* "idle" / "busy", as last reported           */
    int64_t pid;
    int64_t reported_run; /* run_id of the last heartbeat                */
} orch_heartbeat_t;

typedef struct {
    orch_heartbeat_t hb;
    zframe_t *identity;   /* ROUTER routing id of the latest message    */
    int64_t last_seen_ms; /* monotonic time of the last heartbeat       */
    int64_t busy_run;     /* run handed to this extractor, 0: none      */
    int64_t done_run;     /* the last run it was released from          */
    int64_t assigned_ms;  /* when it was last handed a run              */
    int64_t aborted_run;  /* stale run it was last told to abort        */
    bool alive;
} orch_service_t;

typedef struct orch_registry orch_registry_t;

/*  What orch_registry_heartbeat did. */
typedef enum { ORCH_HB_KNOWN, ORCH_HB_NEW, ORCH_HB_REVIVED } orch_hb_change_t;

/*  Reads a heartbeat message. Returns 0, or -1 with err naming the bad
    field (instance, role, pid, host, state, run_id must be present and
    sane; kind may be null or missing except for extractors). */
int orch_heartbeat_parse (const json_t *msg, orch_heartbeat_t *out, vd_error_t *err);

/*  True for a role that extracts ("extractor-isavigne"). */
bool orch_role_is_extractor (const char *role);

orch_registry_t *orch_registry_new (void);
void orch_registry_destroy (orch_registry_t **self_p);

/*  Records a heartbeat from identity (copied). Returns the entry, or NULL
    when out of memory. */
orch_service_t *orch_registry_heartbeat (orch_registry_t *self, const orch_heartbeat_t *hb,
                                         zframe_t *identity, int64_t now_ms,
                                         orch_hb_change_t *change);
/*  The entry of an instance, or NULL. */
orch_service_t *orch_registry_find (orch_registry_t *self, const char *instance);
/*  Number of entries and entry i (for iteration; order not meaningful). */
size_t orch_registry_size (orch_registry_t *self);
orch_service_t *orch_registry_at (orch_registry_t *self, size_t i);

/*  True when a live service has that role (and kind, when not NULL). */
bool orch_registry_has_live (orch_registry_t *self, const char *role, const char *kind);
/*  True when a live extractor serves kind. */
bool orch_registry_has_extractor (orch_registry_t *self, const char *kind);
/*  A live extractor of kind free to take a run (not handed one, and
    reporting idle or still the run it was released from), the one handed
    a run the longest ago; NULL when none. */
orch_service_t *orch_registry_idle_extractor (orch_registry_t *self, const char *kind);

/*  What is missing to run a connector of type, as a reason ("no extractor
    of type isavigne is connected; no loader is connected"), or "". */
void orch_registry_missing (orch_registry_t *self, const char *type, char *out, size_t size);

/*  Marks the next live entry silent for dead_after_ms dead and returns
    it; NULL when there is none left. */
orch_service_t *orch_registry_next_dead (orch_registry_t *self, int64_t now_ms,
                                         int64_t dead_after_ms);
/*  Forgets dead entries silent for more than forget_ms. */
void orch_registry_prune (orch_registry_t *self, int64_t now_ms, int64_t forget_ms);

/*  Self test. Returns 0 when every check passes. */
int orch_registry_test (bool verbose);

#endif
