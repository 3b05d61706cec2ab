/*  orch_active - the runs this orchestrator tracks until recorded. */
#include "vendange.h"
#include "orch_active.h"

#define RECENT 64

struct orch_active {
    orch_active_run_t **items;
    size_t count;
    size_t cap;
    int64_t recent[RECENT];
    size_t recent_next;
};

orch_active_t *
orch_active_new (void)
{
    return calloc (1, sizeof (orch_active_t));
}

static void
s_free_run (orch_active_run_t *run)
{
    json_decref (run->extracted);
    json_decref (run->failure);
    free (run);
}

void
orch_active_destroy (orch_active_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_active_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        s_free_run (self->items[i]);
    free (self->items);
    free (self);
    *self_p = NULL;
}

orch_active_run_t *
orch_active_add (orch_active_t *self, int64_t id, const char *connector, const char *extractor,
                 int64_t now_ms)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        orch_active_run_t **items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return NULL;
        self->items = items;
        self->cap = cap;
    }
    orch_active_run_t *run = calloc (1, sizeof *run);
    if (!run)
        return NULL;
    run->id = id;
    snprintf (run->connector, sizeof run->connector, "%s", connector);
    snprintf (run->extractor, sizeof run->extractor, "%s", extractor);
    run->last_activity_ms = run->last_touch_ms = now_ms;
    self->items[self->count++] = run;
    return run;
}

orch_active_run_t *
orch_active_find (orch_active_t *self, int64_t id)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->items[i]->id == id)
            return self->items[i];
    return NULL;
}

void
orch_active_remove (orch_active_t *self, int64_t id)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->items[i]->id == id) {
            s_free_run (self->items[i]);
            memmove (&self->items[i], &self->items[i + 1],
                     (self->count - i - 1) * sizeof self->items[0]);
            self->count--;
            return;
        }
}

size_t
orch_active_size (orch_active_t *self)
{
    return self->count;
}

orch_active_run_t *
orch_active_at (orch_active_t *self, size_t i)
{
    return i < self->count ? self->items[i] : NULL;
}

void
orch_active_remember (orch_active_t *self, int64_t id)
{
    self->recent[self->recent_next] = id;
    self->recent_next = (self->recent_next + 1) % RECENT;
}

bool
orch_active_recent (orch_active_t *self, int64_t id)
{
    for (size_t i = 0; id && i < RECENT; i++)
        if (self->recent[i] == id)
            return true;
    return false;
}

int
orch_active_test (bool verbose)
{
    int failed = 0;
    orch_active_t *a = orch_active_new ();
    for (int64_t id = 1; id <= 40; id++)
        failed += orch_active_add (a, id, "c", "e", 0) == NULL;
    failed += orch_active_size (a) != 40;
    orch_active_find (a, 7)->extracted = json_object ();
    orch_active_remove (a, 7);
    orch_active_remove (a, 99);
    failed += orch_active_find (a, 7) != NULL || orch_active_size (a) != 39;
    failed += orch_active_find (a, 8) == NULL || orch_active_at (a, 6)->id != 8;
    failed += orch_active_at (a, 39) != NULL;
    for (int64_t id = 1; id <= 70; id++)
        orch_active_remember (a, id);
    failed += orch_active_recent (a, 3) || !orch_active_recent (a, 70) ||
              !orch_active_recent (a, 7) || orch_active_recent (a, 0);
    orch_active_destroy (&a);
    failed += a != NULL;
    if (verbose)
        printf ("orch_active_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
