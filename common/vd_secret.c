/*  vd_secret - connector secrets at rest (libsodium). */
#include "vendange.h"
#include "vd_secret.h"
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#define BLOB_VERSION 1
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_FILE_MAX 256

int
vd_secret_key_parse (const char *text, vd_secret_key_t *key)
{
    const char *end = NULL;
    size_t len = 0;
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    unsigned char bytes[VD_SECRET_KEY_BYTES];
    if (sodium_hex2bin (bytes, sizeof bytes, text, strlen (text), NULL, &len, &end) != 0 ||
        len != sizeof bytes)
        return -1;
    for (; *end; end++)
        if (!(*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) {
            sodium_memzero (bytes, sizeof bytes);
            return -1;
        }
    memcpy (key->key, bytes, sizeof bytes);
    sodium_memzero (bytes, sizeof bytes);
    key->set = true;
    return 0;
}

/*  The key text held by path (at most KEY_FILE_MAX bytes). */
/*  Refused unless a regular file only its owner may read or write. */
int
vd_secret_key_read_file (const char *path, vd_secret_key_t *key, vd_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read VENDANGE_SECRET_KEY_FILE \"%s\"", path);
        vd_error_detail (err, "%s", strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    if (!S_ISREG (st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO))) {
        close (fd);
        vd_error_set (err, VD_ERR_PERMANENT,
                      "VENDANGE_SECRET_KEY_FILE \"%s\" is readable by others (mode %04o)", path,
                      (unsigned)(st.st_mode & 07777));
        snprintf (err->hint, sizeof err->hint,
                  "the key opens every connector secret: chmod 600 \"%s\" (and check who read it)",
                  path);
        if (!S_ISREG (st.st_mode))
            snprintf (err->msg, sizeof err->msg,
                      "VENDANGE_SECRET_KEY_FILE \"%s\" is not a regular file", path);
        return -1;
    }
    char text[KEY_FILE_MAX + 1];
    ssize_t got = read (fd, text, KEY_FILE_MAX);
    close (fd);
    size_t n = got > 0 ? (size_t)got : 0;
    text[n] = '\0';
    int rc = vd_secret_key_parse (text, key);
    sodium_memzero (text, sizeof text);
    if (rc < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "VENDANGE_SECRET_KEY_FILE \"%s\" holds no valid key",
                      path);
        snprintf (err->hint, sizeof err->hint, "the file must hold 64 hex characters");
    }
    return rc;
}

int
vd_secret_key_load (const vd_config_t *cfg, vd_secret_key_t *key, vd_error_t *err)
{
    memset (key, 0, sizeof *key);
    if (sodium_init () < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "libsodium failed to initialise");
    const char *text = vd_config_str (cfg, VD_CFG_SECRET_KEY);
    const char *path = vd_config_str (cfg, VD_CFG_SECRET_KEY_FILE);
    if (*text) {
        if (vd_secret_key_parse (text, key) == 0)
            return 0;
        vd_error_set (err, VD_ERR_PERMANENT, "invalid VENDANGE_SECRET_KEY");
        snprintf (err->hint, sizeof err->hint,
                  "64 hex characters (32 random bytes); `vendange secret-key` prints a new one");
        return -1;
    }
    return *path ? vd_secret_key_read_file (path, key, err) : 0;
}

void
vd_secret_key_generate (char hex[VD_SECRET_KEY_HEX + 1])
{
    unsigned char bytes[VD_SECRET_KEY_BYTES];
    if (sodium_init () < 0)
        abort (); /* no randomness source: nothing safe can be done */
    randombytes_buf (bytes, sizeof bytes);
    sodium_bin2hex (hex, VD_SECRET_KEY_HEX + 1, bytes, sizeof bytes);
    sodium_memzero (bytes, sizeof bytes);
}

void
vd_secret_key_clear (vd_secret_key_t *key)
{
    sodium_memzero (key, sizeof *key);
}

static int
s_no_key (vd_error_t *err)
{
    vd_error_set (err, VD_ERR_PERMANENT, "no secret key is configured");
    snprintf (err->hint, sizeof err->hint,
              "set VENDANGE_SECRET_KEY (64 hex characters; `vendange secret-key` prints one) "
              "for the orchestrator");
    return -1;
}

unsigned char *
vd_secret_seal (const vd_secret_key_t *key, const char *context, const char *plain, size_t len,
                size_t *blob_len, vd_error_t *err)
{
    if (!key->set) {
        s_no_key (err);
        return NULL;
    }
    if (len > VD_SECRET_MAX_PLAIN) {
        vd_error_set (err, VD_ERR_PERMANENT, "secrets larger than 64 KiB");
        return NULL;
    }
    size_t n = 1 + NONCE_BYTES + len + TAG_BYTES;
    unsigned char *blob = malloc (n);
    if (!blob) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    blob[0] = BLOB_VERSION;
    randombytes_buf (blob + 1, NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (
        blob + 1 + NONCE_BYTES, &clen, (const unsigned char *)plain, len,
        (const unsigned char *)context, strlen (context), NULL, blob + 1, key->key);
    *blob_len = 1 + NONCE_BYTES + (size_t)clen;
    return blob;
}

char *
vd_secret_open (const vd_secret_key_t *key, const char *context, const unsigned char *blob,
                size_t blob_len, vd_error_t *err)
{
    if (!key->set) {
        s_no_key (err);
        return NULL;
    }
    if (blob_len < 1 + NONCE_BYTES + TAG_BYTES || blob[0] != BLOB_VERSION) {
        vd_error_set (err, VD_ERR_PERMANENT, "the stored secrets are not a sealed blob");
        return NULL;
    }
    size_t clen = blob_len - 1 - NONCE_BYTES;
    char *plain = malloc (clen - TAG_BYTES + 1);
    unsigned long long plen = 0;
    if (!plain) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (
            (unsigned char *)plain, &plen, NULL, blob + 1 + NONCE_BYTES, clen,
            (const unsigned char *)context, strlen (context), blob + 1, key->key) != 0) {
        free (plain);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot decrypt the stored secrets");
        snprintf (err->hint, sizeof err->hint,
                  "VENDANGE_SECRET_KEY differs from the key they were stored with; "
                  "set the secrets again with vendange connector set");
        return NULL;
    }
    plain[plen] = '\0';
    return plain;
}

void
vd_secret_free (char *text)
{
    if (!text)
        return;
    sodium_memzero (text, strlen (text));
    free (text);
}

char *
vd_hex_encode (const unsigned char *bytes, size_t len)
{
    char *hex = malloc (2 * len + 1);
    if (hex)
        sodium_bin2hex (hex, 2 * len + 1, bytes, len);
    return hex;
}

unsigned char *
vd_hex_decode (const char *hex, size_t *len)
{
    size_t n = strlen (hex);
    unsigned char *bytes = n % 2 == 0 ? malloc (n / 2 + 1) : NULL;
    if (bytes && sodium_hex2bin (bytes, n / 2 + 1, hex, n, NULL, len, NULL) == 0 && *len == n / 2)
        return bytes;
    free (bytes);
    return NULL;
}

int
vd_secret_test (bool verbose)
{
    (void)verbose;
    int failures = 0;
    if (sodium_init () < 0)
        return 1;
    char hex[VD_SECRET_KEY_HEX + 1];
    vd_secret_key_generate (hex);
    vd_secret_key_t key = {0}, other = {0}, none = {0};
    failures += vd_secret_key_parse (hex, &key) != 0 || !key.set || strlen (hex) != 64;
    char padded[80];
    snprintf (padded, sizeof padded, "  %s\n", hex);
    failures += vd_secret_key_parse (padded, &other) != 0 ||
                memcmp (key.key, other.key, sizeof key.key) != 0;
    /* malformed keys: short, long, not hex, trailing garbage */
    vd_secret_key_t bad = {0};
    failures += vd_secret_key_parse ("abcd", &bad) == 0 || bad.set;
    snprintf (padded, sizeof padded, "%s00", hex);
    failures += vd_secret_key_parse (padded, &bad) == 0;
    snprintf (padded, sizeof padded, "%.63sg", hex);
    failures += vd_secret_key_parse (padded, &bad) == 0;
    snprintf (padded, sizeof padded, "%s x", hex);
    failures += vd_secret_key_parse (padded, &bad) == 0;

    vd_error_t err;
    vd_error_clear (&err);
    /* a key file others may read is refused, then accepted once 0600 */
    char path[] = "/tmp/vd-secret-key-XXXXXX";
    int fd = mkstemp (path);
    failures += fd < 0 || write (fd, hex, 64) != 64 || fchmod (fd, 0644) < 0;
    if (fd >= 0)
        close (fd);
    failures += vd_secret_key_read_file (path, &other, &err) == 0 ||
                !strstr (err.msg, "readable by others") || !strstr (err.hint, "chmod 600");
    failures += chmod (path, 0600) < 0 || vd_secret_key_read_file (path, &other, &err) < 0 ||
                memcmp (key.key, other.key, sizeof key.key) != 0;
    unlink (path);
    const char *plain = "{\"api_key\":\"s3cr3t-value\"}";
    size_t blob_len = 0;
    unsigned char *blob =
        vd_secret_seal (&key, "odoo_main", plain, strlen (plain), &blob_len, &err);
    failures += !blob || blob_len != 1 + NONCE_BYTES + strlen (plain) + TAG_BYTES;
    failures += blob && memmem (blob, blob_len, "s3cr3t", 6) != NULL;
    char *back = blob ? vd_secret_open (&key, "odoo_main", blob, blob_len, &err) : NULL;
    failures += !back || strcmp (back, plain) != 0;
    vd_secret_free (back);
    /* another connector's name, another key, a flipped bit, a cut blob */
    failures += blob && vd_secret_open (&key, "odoo_other", blob, blob_len, &err) != NULL;
    vd_secret_key_generate (hex);
    vd_secret_key_parse (hex, &other);
    failures += blob && vd_secret_open (&other, "odoo_main", blob, blob_len, &err) != NULL;
    failures += strstr (err.msg, "cannot decrypt") == NULL;
    if (blob) {
        blob[blob_len - 1] ^= 1;
        failures += vd_secret_open (&key, "odoo_main", blob, blob_len, &err) != NULL;
        failures += vd_secret_open (&key, "odoo_main", blob, 10, &err) != NULL;
        blob[0] = '{';
        failures += vd_secret_open (&key, "odoo_main", blob, blob_len, &err) != NULL;
    }
    free (blob);
    failures += vd_secret_seal (&none, "x", "y", 1, &blob_len, &err) != NULL ||
                strstr (err.hint, "VENDANGE_SECRET_KEY") == NULL;
    /* hex helpers */
    char *h = vd_hex_encode ((const unsigned char *)"\x01\xff", 2);
    failures += !h || strcmp (h, "01ff") != 0;
    size_t n = 0;
    unsigned char *b = h ? vd_hex_decode (h, &n) : NULL;
    failures += !b || n != 2 || b[0] != 1 || b[1] != 0xff;
    free (h);
    free (b);
    failures += vd_hex_decode ("abc", &n) != NULL || vd_hex_decode ("zz", &n) != NULL;
    vd_secret_key_clear (&key);
    vd_secret_key_clear (&other);
    return failures;
}
