/*  norm_fence - which runs the normalizer converts records of.

    The records of a run are converted only when the orchestrator says
    the run is open: the normalizer asks ({"type":"run_status"}) on the
    first message of a run it has no verdict on, holds that message until
    the answer, and drops the messages of a run the orchestrator said was
    not open or told it to abort. The verdicts of the latest runs are
    kept (a ring); the loader checks again before it writes (vd_fence).
*/
#ifndef NORM_FENCE_H_INCLUDED
#define NORM_FENCE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct norm_fence norm_fence_t;

norm_fence_t *norm_fence_new (void);
void norm_fence_destroy (norm_fence_t **self_p);

/*  1 when run_id is open, 0 when it is not, -1 when there is no verdict. */
int norm_fence_verdict (const norm_fence_t *self, int64_t run_id);

/*  Records a verdict (replacing an earlier one of the run). */
void norm_fence_set (norm_fence_t *self, int64_t run_id, bool open);

/*  Self test. */
int norm_fence_test (bool verbose);

#endif
