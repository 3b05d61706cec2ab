/*  vd_hashset - a set of 128-bit hashes (see vd_hashset.h). */
#include "vd_hashset.h"
#define XXH_INLINE_ALL /* header only: nothing to link */
#include <xxhash.h>

struct vd_hashset {
    uint8_t *slots; /* VD_HASH_SIZE bytes each, all zero when empty */
    size_t mask;    /* slots - 1 (a power of two), 0 with no slots  */
    size_t size;    /* members in slots                             */
    bool zero;      /* the all-zero hash is a member (kept aside)   */
};

vd_hashset_t *
vd_hashset_new (void)
{
    return calloc (1, sizeof (vd_hashset_t));
}

void
vd_hashset_destroy (vd_hashset_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

void
vd_hashset_of (const void *data, size_t len, uint8_t *hash)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash (&c, XXH3_128bits (data, len));
    memcpy (hash, c.digest, VD_HASH_SIZE);
}

static bool
s_zero (const uint8_t *hash)
{
    static const uint8_t zero[VD_HASH_SIZE];
    return memcmp (hash, zero, VD_HASH_SIZE) == 0;
}

/*  The slot holding hash, or the empty slot where it would go (the hash
    is uniform already: its first bytes choose where the probe starts). */
static uint8_t *
s_slot (const vd_hashset_t *self, const uint8_t *hash)
{
    uint64_t h;
    memcpy (&h, hash, sizeof h);
    for (size_t s = (size_t)h & self->mask;; s = (s + 1) & self->mask) {
        uint8_t *slot = self->slots + s * VD_HASH_SIZE;
        if (s_zero (slot) || memcmp (slot, hash, VD_HASH_SIZE) == 0)
            return slot;
    }
}

int
vd_hashset_reserve (vd_hashset_t *self, size_t n)
{
    size_t want = 16;
    while (want < n + n / 2) /* at most 2/3 full */
        want *= 2;
    if (self->slots && want <= self->mask + 1)
        return 0;
    uint8_t *old = self->slots;
    size_t old_slots = old ? self->mask + 1 : 0;
    if (!(self->slots = calloc (want, VD_HASH_SIZE))) {
        self->slots = old;
        return -1;
    }
    self->mask = want - 1;
    for (size_t s = 0; s < old_slots; s++)
        if (!s_zero (old + s * VD_HASH_SIZE))
            memcpy (s_slot (self, old + s * VD_HASH_SIZE), old + s * VD_HASH_SIZE, VD_HASH_SIZE);
    free (old);
    return 0;
}

int
vd_hashset_add (vd_hashset_t *self, const uint8_t *hash)
{
    if (s_zero (hash)) {
        bool added = !self->zero;
        self->zero = true;
        return added;
    }
    if (vd_hashset_reserve (self, self->size + 1) < 0)
        return -1;
    uint8_t *slot = s_slot (self, hash);
    if (!s_zero (slot))
        return 0;
    memcpy (slot, hash, VD_HASH_SIZE);
    self->size++;
    return 1;
}

bool
vd_hashset_has (const vd_hashset_t *self, const uint8_t *hash)
{
    if (!self)
        return false;
    if (s_zero (hash))
        return self->zero;
    return self->slots && !s_zero (s_slot (self, hash));
}

size_t
vd_hashset_size (const vd_hashset_t *self)
{
    return self ? self->size + self->zero : 0;
}

const uint8_t *
vd_hashset_next (const vd_hashset_t *self, size_t *cursor)
{
    static const uint8_t zero[VD_HASH_SIZE];
    size_t slots = self->slots ? self->mask + 1 : 0;
    while (*cursor < slots) {
        const uint8_t *slot = self->slots + (*cursor)++ * VD_HASH_SIZE;
        if (!s_zero (slot))
            return slot;
    }
    if (*cursor == slots && self->zero) {
        (*cursor)++;
        return zero;
    }
    return NULL;
}

void
vd_hashset_clear (vd_hashset_t *self)
{
    free (self->slots);
    *self = (vd_hashset_t){0};
}

int
vd_hashset_test (bool verbose)
{
    int failures = 0;
    vd_hashset_t *set = vd_hashset_new ();
    uint8_t h[VD_HASH_SIZE], zero[VD_HASH_SIZE] = {0};
    char key[32];
    /* grows past its first size; every member found once, others not */
    for (int i = 0; i < 10000; i++) {
        snprintf (key, sizeof key, "isavigne-C%05d", i);
        vd_hashset_of (key, strlen (key), h);
        failures += vd_hashset_add (set, h) != 1 || vd_hashset_add (set, h) != 0;
    }
    failures += vd_hashset_add (set, zero) != 1 || vd_hashset_add (set, zero) != 0;
    failures += vd_hashset_size (set) != 10001;
    for (int i = 0; i < 20000; i++) {
        snprintf (key, sizeof key, "isavigne-C%05d", i);
        vd_hashset_of (key, strlen (key), h);
        failures += vd_hashset_has (set, h) != (i < 10000);
    }
    size_t cursor = 0, seen = 0, zeros = 0;
    for (const uint8_t *m; (m = vd_hashset_next (set, &cursor)) != NULL; seen++)
        zeros += memcmp (m, zero, VD_HASH_SIZE) == 0;
    failures += seen != 10001 || zeros != 1;
    /* the same bytes, the same hash; an empty set holds nothing */
    uint8_t a[VD_HASH_SIZE], b[VD_HASH_SIZE];
    vd_hashset_of ("abc", 3, a);
    vd_hashset_of ("abc", 3, b);
    failures += memcmp (a, b, VD_HASH_SIZE) != 0;
    vd_hashset_clear (set);
    failures += vd_hashset_has (set, a) || vd_hashset_has (set, zero) || vd_hashset_size (set);
    cursor = 0;
    failures += vd_hashset_next (set, &cursor) != NULL;
    if (verbose)
        printf ("  vd_hashset: %d failures\n", failures);
    vd_hashset_destroy (&set);
    return failures ? -1 : 0;
}
