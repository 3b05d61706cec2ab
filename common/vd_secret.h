/*  vd_secret - connector secrets at rest (libsodium).

    A secret blob is  version (1 byte, 1) | nonce (24 bytes) | ciphertext
    and tag  of XChaCha20-Poly1305 (IETF AEAD), the connector's name bound
    as associated data, so a blob copied onto another connector does not
    open. The key (32 bytes) comes from VENDANGE_SECRET_KEY (64 hex
    characters) or from the file VENDANGE_SECRET_KEY_FILE holds (the same
    64 hex characters, e.g. written by `vendange up`).
*/
#ifndef VD_SECRET_H_INCLUDED
#define VD_SECRET_H_INCLUDED

#include "vd_config.h"
#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>

#define VD_SECRET_KEY_BYTES 32
#define VD_SECRET_KEY_HEX (2 * VD_SECRET_KEY_BYTES)
#define VD_SECRET_MAX_PLAIN (64 * 1024)

typedef struct {
    bool set; /* false: no key configured (secrets cannot be stored) */
    unsigned char key[VD_SECRET_KEY_BYTES];
} vd_secret_key_t;

/*  Loads the key from the configuration. Returns 0 (key->set false when
    neither variable is set), -1 with err when the key is malformed or its
    file unreadable. Never puts the key in err. */
int vd_secret_key_load (const vd_config_t *cfg, vd_secret_key_t *key, vd_error_t *err);

/*  Reads the key held by the file at path (VENDANGE_SECRET_KEY_FILE).
    Refused (-1 with err) unless a regular file, not a symbolic link, that
    neither its group nor others may read or write. */
int vd_secret_key_read_file (const char *path, vd_secret_key_t *key, vd_error_t *err);
/*  Parses 64 hex characters (surrounding white space allowed). 0, -1. */
int vd_secret_key_parse (const char *text, vd_secret_key_t *key);
/*  Writes a new random key as 64 hex characters and a NUL into hex. */
void vd_secret_key_generate (char hex[VD_SECRET_KEY_HEX + 1]);
/*  Wipes the key. */
void vd_secret_key_clear (vd_secret_key_t *key);

/*  Seals plain (len bytes) for context. Returns the blob (malloc'ed, the
    caller frees) and its length in *blob_len; NULL with err. */
unsigned char *vd_secret_seal (const vd_secret_key_t *key, const char *context, const char *plain,
                               size_t len, size_t *blob_len, vd_error_t *err);
/*  Opens a blob sealed for context. Returns the text (malloc'ed,
    NUL-terminated; the caller wipes and frees it with vd_secret_free),
    NULL with err (no key, wrong key or context, damaged blob). */
char *vd_secret_open (const vd_secret_key_t *key, const char *context, const unsigned char *blob,
                      size_t blob_len, vd_error_t *err);
/*  Wipes and frees text from vd_secret_open. Accepts NULL. */
void vd_secret_free (char *text);

/*  Hex of bytes (malloc'ed), and back (malloc'ed, *len set). NULL on
    failure (out of memory, not hex). For bytea parameters and results. */
char *vd_hex_encode (const unsigned char *bytes, size_t len);
unsigned char *vd_hex_decode (const char *hex, size_t *len);

int vd_secret_test (bool verbose);

#endif
