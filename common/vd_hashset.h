/*  vd_hashset - a set of 128-bit hashes by open addressing: the trusted
    per-line hashes of a file (extractor), the keys known to exist or
    asked for (loader's reference checks). A member is the XXH3-128 of its
    bytes (vd_hashset_of): two different keys share one by chance once in
    2^128, which the set treats as impossible, as the line hashes do.
*/
#ifndef VD_HASHSET_H_INCLUDED
#define VD_HASHSET_H_INCLUDED

#include "vendange.h"

#define VD_HASH_SIZE 16

typedef struct vd_hashset vd_hashset_t;

vd_hashset_t *vd_hashset_new (void);
void vd_hashset_destroy (vd_hashset_t **self_p);

/*  The XXH3-128 of data, as VD_HASH_SIZE bytes. */
void vd_hashset_of (const void *data, size_t len, uint8_t *hash);
/*  Makes room for n members without growing again. 0, -1 out of memory. */
int vd_hashset_reserve (vd_hashset_t *self, size_t n);
/*  Adds hash: 1 added, 0 already there, -1 out of memory. */
int vd_hashset_add (vd_hashset_t *self, const uint8_t *hash);
/*  Membership and size; a NULL set is empty. */
bool vd_hashset_has (const vd_hashset_t *self, const uint8_t *hash);
size_t vd_hashset_size (const vd_hashset_t *self);
/*  The members one by one: start with *cursor 0; NULL after the last. */
const uint8_t *vd_hashset_next (const vd_hashset_t *self, size_t *cursor);
/*  Forgets every member (and the memory they took). */
void vd_hashset_clear (vd_hashset_t *self);

int vd_hashset_test (bool verbose);

#endif
