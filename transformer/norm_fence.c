/*  norm_fence - which runs the normalizer converts records of. */
#include "vendange.h"
#include "norm_fence.h"

#define VERDICTS 256 /* runs remembered: far more than run at once */

struct norm_fence {
    int64_t run[VERDICTS];
    bool open[VERDICTS];
    size_t next;
};

norm_fence_t *
norm_fence_new (void)
{
    return calloc (1, sizeof (norm_fence_t));
}

void
norm_fence_destroy (norm_fence_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/*  The slot of run_id, or VERDICTS. */
static size_t
s_find (const norm_fence_t *self, int64_t run_id)
{
    for (size_t i = 0; run_id > 0 && i < VERDICTS; i++)
        if (self->run[i] == run_id)
            return i;
    return VERDICTS;
}

int
norm_fence_verdict (const norm_fence_t *self, int64_t run_id)
{
    size_t i = s_find (self, run_id);
    return i == VERDICTS ? -1 : self->open[i] ? 1 : 0;
}

void
norm_fence_set (norm_fence_t *self, int64_t run_id, bool open)
{
    size_t i = s_find (self, run_id);
    if (i == VERDICTS) {
        i = self->next;
        self->next = (self->next + 1) % VERDICTS;
        self->run[i] = run_id;
    }
    self->open[i] = open;
}

int
norm_fence_test (bool verbose)
{
    int failures = 0;
    norm_fence_t *f = norm_fence_new ();
    if (!f)
        return -1;
    failures += norm_fence_verdict (f, 7) != -1;
    norm_fence_set (f, 7, true);
    failures += norm_fence_verdict (f, 7) != 1;
    norm_fence_set (f, 7, false); /* aborted */
    failures += norm_fence_verdict (f, 7) != 0;
    for (int64_t r = 100; r < 100 + VERDICTS; r++)
        norm_fence_set (f, r, true);
    failures += norm_fence_verdict (f, 7) != -1; /* forgotten: asked again */
    failures += norm_fence_verdict (f, 100 + VERDICTS - 1) != 1;
    failures += norm_fence_verdict (f, 0) != -1;
    norm_fence_destroy (&f);
    norm_fence_destroy (&f);
    if (verbose)
        printf ("  norm_fence: %d failures\n", failures);
    return failures ? -1 : 0;
}
