/*  isv_packaging - product key -> packaging text of one export. */
#include "isv_packaging.h"
#include <sodium.h>

#define MAX_PACKAGING 256 /* bytes of one packaging text */

struct isv_packaging {
    zhashx_t *map; /* product key -> strdup'ed packaging text */
    vd_buf_t key;
};

isv_packaging_t *
isv_packaging_new (void)
{
    isv_packaging_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->map = zhashx_new ();
    if (!self->map) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->map, (zhashx_destructor_fn *)zstr_free);
    vd_buf_init (&self->key, 4096);
    return self;
}

void
isv_packaging_destroy (isv_packaging_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->map);
    vd_buf_free (&(*self_p)->key);
    free (*self_p);
    *self_p = NULL;
}

/*  The product key of a code into self->key; NULL when it has none. */
static const char *
s_key (isv_packaging_t *self, const char *code, size_t len)
{
    vd_buf_reset (&self->key);
    if (!code || vd_text_product_code (code, len, &self->key) < 0)
        return NULL;
    return vd_buf_str (&self->key);
}

int
isv_packaging_add (isv_packaging_t *self, const char *code, size_t code_len, const char *volume,
                   size_t volume_len, const char *pack, size_t pack_len)
{
    vd_buf_t text;
    vd_buf_init (&text, MAX_PACKAGING);
    if (volume && vd_text_clean (volume, volume_len, &text) < 0)
        vd_buf_reset (&text);
    vd_buf_t size;
    vd_buf_init (&size, 64);
    vd_dec_t d, volume_cl, in_pack;
    /* a pack size column: "6" and "75 cl" make "6 x 75 cl" */
    if (text.len && pack && vd_number_parse (pack, pack_len, &size) == 0 &&
        vd_dec_parse (size.data, size.len, &d) == 0 && d.scale == 0 && d.v > 1 &&
        vd_packaging_parse (text.data, text.len, &volume_cl, &in_pack) > 0 && in_pack.v == 1) {
        char *joined = strdup (vd_buf_str (&text));
        vd_buf_reset (&text);
        if (joined)
            vd_buf_printf (&text, "%s x %s", vd_buf_str (&size), joined);
        free (joined);
    }
    vd_buf_free (&size);
    const char *key = s_key (self, code, code_len);
    int rc = 0;
    if (key && text.len && vd_packaging_bottles (text.data, text.len, &d) > 0) {
        char *value = strdup (vd_buf_str (&text));
        rc = value ? zhashx_insert (self->map, key, value) : -1;
        if (rc < 0 && value) { /* already known: the later row wins */
            zhashx_update (self->map, key, value);
            rc = 0;
        }
    }
    vd_buf_free (&text);
    return rc;
}

const char *
isv_packaging_find (isv_packaging_t *self, const char *code, size_t len)
{
    const char *key = s_key (self, code, len);
    return key ? zhashx_lookup (self->map, key) : NULL;
}

void
isv_packaging_digest (isv_packaging_t *self, uint8_t *out)
{
    uint64_t sum[2] = {0, 0}; /* a sum of the pairs' hashes: order-free */
    for (const char *text = zhashx_first (self->map); text; text = zhashx_next (self->map)) {
        const char *key = zhashx_cursor (self->map);
        uint64_t h[2];
        crypto_generichash_state st;
        crypto_generichash_init (&st, NULL, 0, sizeof h);
        crypto_generichash_update (&st, (const unsigned char *)key, strlen (key) + 1);
        crypto_generichash_update (&st, (const unsigned char *)text, strlen (text) + 1);
        crypto_generichash_final (&st, (unsigned char *)h, sizeof h);
        sum[0] += h[0];
        sum[1] += h[1];
    }
    memcpy (out, sum, sizeof sum);
}

size_t
isv_packaging_size (isv_packaging_t *self)
{
    return zhashx_size (self->map);
}

int
isv_packaging_test (bool verbose)
{
    int failures = 0;
    isv_packaging_t *p = isv_packaging_new ();
    isv_packaging_add (p, "ries-res-2022", 13, "75 cl", 5, NULL, 0);
    isv_packaging_add (p, "GEW VT 2018", 11, " 6 x 75 cl ", 11, NULL, 0);
    isv_packaging_add (p, "PN-2021", 7, "75 cl", 5, "12", 2);
    isv_packaging_add (p, "FUT", 3, "fût", 4, NULL, 0);
    isv_packaging_add (p, "", 0, "75 cl", 5, NULL, 0);
    isv_packaging_add (p, "CREM", 4, "75 cl", 5, NULL, 0);
    isv_packaging_add (p, "crem", 4, "150 cl", 6, NULL, 0);
    const char *got[] = {
        isv_packaging_find (p, "RIES-RES-2022", 13), isv_packaging_find (p, "gew-vt-2018", 11),
        isv_packaging_find (p, "PN 2021", 7),        isv_packaging_find (p, "FUT", 3),
        isv_packaging_find (p, "CREM", 4),           isv_packaging_find (p, "??", 2)};
    const char *want[] = {"75 cl", "6 x 75 cl", "12 x 75 cl", NULL, "150 cl", NULL};
    for (int i = 0; i < 6; i++) {
        bool ok = want[i] ? got[i] && strcmp (got[i], want[i]) == 0 : got[i] == NULL;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr, "isv_packaging: %s case %d: got \"%s\"\n",
                     ok ? "ok" : "FAIL", i, got[i] ? got[i] : "(null)");
        failures += !ok;
    }
    if (isv_packaging_size (p) != 4)
        failures++;
    /* the digest: the same pairs in another order give the same digest,
       one packaging changed another */
    isv_packaging_t *q = isv_packaging_new (), *r = isv_packaging_new ();
    isv_packaging_add (q, "A", 1, "75 cl", 5, NULL, 0);
    isv_packaging_add (q, "B", 1, "150 cl", 6, NULL, 0);
    isv_packaging_add (r, "B", 1, "150 cl", 6, NULL, 0);
    isv_packaging_add (r, "A", 1, "75 cl", 5, NULL, 0);
    uint8_t dq[16], dr[16];
    isv_packaging_digest (q, dq);
    isv_packaging_digest (r, dr);
    failures += memcmp (dq, dr, 16) != 0;
    isv_packaging_add (r, "A", 1, "37,5 cl", 7, NULL, 0);
    isv_packaging_digest (r, dr);
    failures += memcmp (dq, dr, 16) == 0;
    isv_packaging_destroy (&q);
    isv_packaging_destroy (&r);
    isv_packaging_destroy (&p);
    isv_packaging_destroy (&p);
    return failures ? -1 : 0;
}
