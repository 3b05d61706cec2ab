/*  orch_auth - authentication of the HTTP API and the web page. */
#include "vendange.h"
#include "vd_addr.h"
#include "orch_auth.h"
#include "orch_http.h"
#include <sodium.h>

#define CRED_MAX 1024

struct orch_auth {
    bool has_token, has_user;
    unsigned char token[crypto_generichash_BYTES];
    unsigned char basic[crypto_generichash_BYTES]; /* of "user:password" */
};

static void
s_hash (unsigned char out[crypto_generichash_BYTES], const char *s, size_t n)
{
    crypto_generichash (out, crypto_generichash_BYTES, (const unsigned char *)s, n, NULL, 0);
}

orch_auth_t *
orch_auth_new (const char *token, const char *user, const char *password, vd_error_t *err)
{
    if (sodium_init () < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "libsodium failed to initialise");
        return NULL;
    }
    bool has_user = user && *user, has_password = password && *password;
    if (has_user != has_password) {
        vd_error_set (err, VD_ERR_PERMANENT,
                      "VENDANGE_API_USER and VENDANGE_API_PASSWORD go together");
        return NULL;
    }
    orch_auth_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    if (token && *token) {
        self->has_token = true;
        s_hash (self->token, token, strlen (token));
    }
    if (has_user) {
        char pair[2 * CRED_MAX + 2];
        int n = snprintf (pair, sizeof pair, "%s:%s", user, password);
        self->has_user = true;
        s_hash (self->basic, pair, n > 0 && (size_t)n < sizeof pair ? (size_t)n : 0);
        sodium_memzero (pair, sizeof pair);
    }
    return self;
}

void
orch_auth_destroy (orch_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero (*self_p, sizeof **self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
orch_auth_enabled (const orch_auth_t *self)
{
    return self && (self->has_token || self->has_user);
}

/*  True when the hash of s (n bytes) equals want, in constant time. */
static bool
s_equal (const unsigned char *want, const char *s, size_t n)
{
    unsigned char got[crypto_generichash_BYTES];
    s_hash (got, s, n);
    return sodium_memcmp (got, want, sizeof got) == 0;
}

bool
orch_auth_check (const orch_auth_t *self, const char *authorization)
{
    if (!orch_auth_enabled (self))
        return true;
    if (!authorization || strlen (authorization) > 4 * CRED_MAX)
        return false;
    if (self->has_token && strncasecmp (authorization, "Bearer ", 7) == 0) {
        const char *t = authorization + 7;
        return s_equal (self->token, t, strlen (t));
    }
    if (self->has_user && strncasecmp (authorization, "Basic ", 6) == 0) {
        const char *b64 = authorization + 6;
        char pair[3 * CRED_MAX];
        size_t len = 0;
        bool ok = sodium_base642bin ((unsigned char *)pair, sizeof pair, b64, strlen (b64), NULL,
                                     &len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
                  s_equal (self->basic, pair, len);
        sodium_memzero (pair, sizeof pair);
        return ok;
    }
    return false;
}

const char *
orch_auth_challenge (const orch_auth_t *self)
{
    return self && self->has_user ? "Basic realm=\"vendange\", charset=\"UTF-8\""
                                  : "Bearer realm=\"vendange\"";
}

static bool
s_loopback (const char *host)
{
    return strcmp (host, "localhost") == 0 || strcmp (host, "::1") == 0 ||
           strncmp (host, "127.", 4) == 0;
}

int
orch_auth_addr_ok (const orch_auth_t *self, const char *addr, vd_error_t *err)
{
    char host[256];
    int port;
    if (orch_auth_enabled (self) || vd_addr_parse (addr, host, sizeof host, &port) < 0 ||
        s_loopback (host))
        return 0; /* a bad address is orch_http_new's to report */
    vd_error_set (err, VD_ERR_PERMANENT, "refusing to serve the API on %s without authentication",
                  addr);
    snprintf (err->hint, sizeof err->hint,
              "set VENDANGE_API_TOKEN (or VENDANGE_API_USER and VENDANGE_API_PASSWORD), or bind "
              "VENDANGE_HTTP_ADDR to 127.0.0.1");
    return -1;
}

int
orch_auth_test (bool verbose)
{
    int failed = 0;
    vd_error_t err;
    vd_error_clear (&err);
    orch_auth_t *open = orch_auth_new (NULL, "", NULL, &err);
    failed += !open || orch_auth_enabled (open) || !orch_auth_check (open, NULL);
    failed += orch_auth_addr_ok (open, "127.0.0.1:8480", &err) < 0;
    failed += orch_auth_addr_ok (open, "[::1]:8480", &err) < 0;
    failed += orch_auth_addr_ok (open, "0.0.0.0:8480", &err) == 0;
    failed += orch_auth_addr_ok (open, ":8480", &err) == 0;
    failed += strstr (err.hint, "VENDANGE_API_TOKEN") == NULL;
    orch_auth_destroy (&open);
    orch_auth_t *a = orch_auth_new ("s3cret", "ops", "pw:x", &err);
    failed += !a || !orch_auth_enabled (a);
    failed += !orch_auth_check (a, "Bearer s3cret");
    failed += orch_auth_check (a, "Bearer s3cre");
    failed += orch_auth_check (a, "Bearer s3cretx");
    failed += orch_auth_check (a, NULL) || orch_auth_check (a, "") || orch_auth_check (a, "s3cret");
    failed += !orch_auth_check (a, "Basic b3BzOnB3Ong="); /* ops:pw:x */
    failed += orch_auth_check (a, "Basic b3BzOnB3");      /* ops:pw */
    failed += orch_auth_check (a, "Basic !!!notbase64");
    failed += orch_auth_addr_ok (a, "0.0.0.0:8480", &err) < 0;
    failed += strncmp (orch_auth_challenge (a), "Basic", 5) != 0;
    orch_auth_destroy (&a);
    failed += orch_auth_new (NULL, "ops", "", &err) != NULL;
    if (verbose)
        printf ("orch_auth_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
