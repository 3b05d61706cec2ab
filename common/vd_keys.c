/*  vd_keys - the CURVE key files of vendange's services. */
#include "vendange.h"
#include "vd_keys.h"
#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define CERT_FILE_MAX 4096 /* a certificate is ~400 bytes */
#define KEY_PATH 1024      /* a path in the keys folder   */

/*  A path into out (KEY_PATH bytes). 0, -1 when too long. */
static int __attribute__ ((format (printf, 2, 3))) s_path (char *out, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (out, KEY_PATH, fmt, args);
    va_end (args);
    return n < 0 || n >= KEY_PATH ? -1 : 0;
}

const char *const vd_keys_roles[] = {
    "orchestrator",   "normalizer",        "loader",      "extractor-isavigne",
    "extractor-odoo", "extractor-webhook", "recommender", NULL};

bool
vd_keys_role_known (const char *role)
{
    for (size_t i = 0; role && vd_keys_roles[i]; i++)
        if (strcmp (role, vd_keys_roles[i]) == 0)
            return true;
    return false;
}

int
vd_keys_dir (const vd_config_t *config, char *out, size_t size, vd_error_t *err)
{
    const char *dir = vd_config_str (config, VD_CFG_KEYS_DIR);
    const char *home = vd_config_str (config, VD_CFG_HOME);
    int n = *dir ? snprintf (out, size, "%s", dir)
                 : (*home ? snprintf (out, size, "%s/keys", home) : -1);
    if (n < 0 || (size_t)n >= size) {
        vd_error_set (err, VD_ERR_PERMANENT, "no folder for the CURVE keys");
        snprintf (err->hint, sizeof err->hint, "set VENDANGE_KEYS_DIR or VENDANGE_HOME");
        return -1;
    }
    return 0;
}

/*  A keys folder whose every path fits in KEY_PATH (role names and
    file names are short). 0, -1 with err. */
static int
s_dir_ok (const char *dir, vd_error_t *err)
{
    if (dir && *dir && strlen (dir) < KEY_PATH - 256)
        return 0;
    return vd_error_set (err, VD_ERR_PERMANENT, "the keys folder path is empty or too long");
}

/*  A Z85 key text: 40 characters that decode. */
static bool
s_key_ok (const char *text)
{
    uint8_t raw[32];
    return text && strlen (text) == 40 && zmq_z85_decode (raw, text) != NULL;
}

/*  Reads a certificate file into its key texts and role (secret_txt NULL:
    the secret key is not read). 0, -1 with err. */
static int
s_read_cert (int fd, const char *path, char *public_txt, char *secret_txt, char *role,
             size_t role_size, vd_error_t *err)
{
    char text[CERT_FILE_MAX + 1];
    ssize_t got = read (fd, text, CERT_FILE_MAX);
    text[got > 0 ? got : 0] = '\0';
    zconfig_t *root = got > 0 && got < CERT_FILE_MAX ? zconfig_str_load (text) : NULL;
    const char *pub = root ? zconfig_get (root, "curve/public-key", NULL) : NULL;
    const char *sec = root ? zconfig_get (root, "curve/secret-key", NULL) : NULL;
    const char *who = root ? zconfig_get (root, "metadata/role", NULL) : NULL;
    int rc = -1;
    if (!s_key_ok (pub) || (secret_txt && !s_key_ok (sec)))
        vd_error_set (err, VD_ERR_PERMANENT, "\"%s\" is not a CURVE certificate%s", path,
                      secret_txt ? " with a secret key" : "");
    else if (!who || strlen (who) >= role_size)
        vd_error_set (err, VD_ERR_PERMANENT, "certificate \"%s\" names no role", path);
    else {
        snprintf (public_txt, VD_KEYS_TEXT, "%s", pub);
        if (secret_txt)
            snprintf (secret_txt, VD_KEYS_TEXT, "%s", sec);
        snprintf (role, role_size, "%s", who);
        rc = 0;
    }
    zconfig_destroy (&root);
    explicit_bzero (text, sizeof text);
    return rc;
}

int
vd_keys_load_secret (const char *path, const char *role, char *public_txt, char *secret_txt,
                     vd_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read the CURVE key \"%s\" of %s", path, role);
        vd_error_detail (err, "%s", strerror (errno));
        snprintf (err->hint, sizeof err->hint,
                  "`vendange keys init` makes the keys; VENDANGE_KEY_FILE names this service's");
        if (fd >= 0)
            close (fd);
        return -1;
    }
    if (!S_ISREG (st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO))) {
        close (fd);
        vd_error_set (err, VD_ERR_PERMANENT, "the CURVE key \"%s\" is %s", path,
                      S_ISREG (st.st_mode) ? "readable by others" : "not a regular file");
        snprintf (err->hint, sizeof err->hint,
                  "chmod 600 \"%s\" (and make a new key if others "
                  "read it: vendange keys rotate)",
                  path);
        return -1;
    }
    char who[64];
    int rc = s_read_cert (fd, path, public_txt, secret_txt, who, sizeof who, err);
    close (fd);
    if (rc == 0 && strcmp (who, role) != 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "the CURVE key \"%s\" is the key of %s, not of %s",
                      path, who, role);
        explicit_bzero (secret_txt, VD_KEYS_TEXT);
        return -1;
    }
    return rc;
}

/*  Reads a public certificate. 0, -1 with err. */
static int
s_read_public (const char *path, char *key, char *role, size_t role_size, vd_error_t *err)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read the public key \"%s\"", path);
        vd_error_detail (err, "%s", strerror (errno));
        snprintf (err->hint, sizeof err->hint, "`vendange keys init` makes the keys");
        return -1;
    }
    int rc = s_read_cert (fd, path, key, NULL, role, role_size, err);
    close (fd);
    return rc;
}

int
vd_keys_public (const char *dir, const char *role, char *out, vd_error_t *err)
{
    if (s_dir_ok (dir, err) < 0)
        return -1;
    char path[KEY_PATH], who[64];
    s_path (path, "%s/public/%s.pub", dir, role);
    if (s_read_public (path, out, who, sizeof who, err) < 0)
        return -1;
    if (strcmp (who, role) != 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "\"%s\" is the key of %s, not of %s", path, who,
                             role);
    return 0;
}

int
vd_keys_each (const char *dir, vd_keys_fn *fn, void *arg, vd_error_t *err)
{
    if (s_dir_ok (dir, err) < 0)
        return -1;
    char path[KEY_PATH];
    s_path (path, "%s/public", dir);
    DIR *d = opendir (path);
    if (!d) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot read the public keys folder \"%s\"", path);
        return vd_error_detail (err, "%s", strerror (errno));
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        size_t len = strlen (e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp (e->d_name + len - 4, ".pub") != 0)
            continue;
        char file[KEY_PATH], key[VD_KEYS_TEXT], role[64];
        s_path (file, "%s/%s", path, e->d_name);
        vd_error_t skip;
        vd_error_clear (&skip);
        if (s_read_public (file, key, role, sizeof role, &skip) < 0 || !vd_keys_role_known (role))
            continue;
        fn (arg, role, key, e->d_name);
        n++;
    }
    closedir (d);
    return n;
}

/*  mkdir that accepts an existing folder. */
static int
s_mkdir (const char *path, mode_t mode, vd_error_t *err)
{
    if (mkdir (path, mode) == 0 || errno == EEXIST)
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "cannot create the keys folder \"%s\"", path);
    return vd_error_detail (err, "%s", strerror (errno));
}

/*  Writes a new pair of role: public to pub_path, secret to key_path (via
    a temporary file made under umask 077, then renamed). */
static int
s_write_pair (const char *key_path, const char *pub_path, const char *role, vd_error_t *err)
{
    zcert_t *cert = zcert_new ();
    if (!cert)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot make a CURVE key pair");
    zcert_set_meta (cert, "role", "%s", role);
    char tmp[KEY_PATH];
    s_path (tmp, "%s.new", key_path);
    mode_t old = umask (077);
    int rc = zcert_save_secret (cert, tmp);
    umask (old);
    if (rc == 0)
        rc = chmod (tmp, 0600);
    char pub_tmp[KEY_PATH];
    s_path (pub_tmp, "%s.new", pub_path);
    if (rc == 0)
        rc = zcert_save_public (cert, pub_tmp);
    if (rc == 0)
        rc = chmod (pub_tmp, 0644);
    if (rc == 0)
        rc = rename (tmp, key_path);
    if (rc == 0)
        rc = rename (pub_tmp, pub_path);
    zcert_destroy (&cert);
    if (rc < 0) {
        unlink (tmp);
        unlink (pub_tmp);
        vd_error_set (err, VD_ERR_PERMANENT, "cannot write the key of %s in \"%s\"", role,
                      key_path);
        return vd_error_detail (err, "%s", strerror (errno));
    }
    return 0;
}

int
vd_keys_make (const char *dir, const char *role, bool rotate, vd_error_t *err)
{
    if (s_dir_ok (dir, err) < 0)
        return -1;
    if (!vd_keys_role_known (role))
        return vd_error_set (err, VD_ERR_PERMANENT, "unknown role \"%s\"", role);
    char pub_dir[KEY_PATH], key_path[KEY_PATH], pub_path[KEY_PATH];
    s_path (pub_dir, "%s/public", dir);
    if (s_mkdir (dir, 0700, err) < 0 || s_mkdir (pub_dir, 0755, err) < 0)
        return -1;
    s_path (key_path, "%s/%s.key", dir, role);
    s_path (pub_path, "%s/%s.pub", pub_dir, role);
    bool have = access (key_path, F_OK) == 0 && access (pub_path, F_OK) == 0;
    if (have && !rotate)
        return 0;
    if (have) { /* the current public key stays accepted under a dated name */
        char stamp[32], old[KEY_PATH];
        time_t now = time (NULL);
        struct tm tm;
        gmtime_r (&now, &tm);
        strftime (stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        s_path (old, "%s/%s.%s.pub", pub_dir, role, stamp);
        if (link (pub_path, old) < 0 && errno != EEXIST) {
            vd_error_set (err, VD_ERR_PERMANENT, "cannot keep the old key of %s as \"%s\"", role,
                          old);
            return vd_error_detail (err, "%s", strerror (errno));
        }
    }
    return s_write_pair (key_path, pub_path, role, err) < 0 ? -1 : 1;
}

typedef struct {
    const char *dir, *role;
    int removed;
} s_retire_t;

/*  Removes file when it is an older key of the role: <role>.<time>.pub. */
static void
s_retire_one (void *arg, const char *role, const char *key, const char *file)
{
    (void)key;
    s_retire_t *r = arg;
    size_t len = strlen (r->role);
    char path[KEY_PATH];
    if (strcmp (role, r->role) == 0 && strncmp (file, role, len) == 0 && file[len] == '.' &&
        strcmp (file + len, ".pub") != 0 && s_path (path, "%s/public/%s", r->dir, file) == 0 &&
        unlink (path) == 0)
        r->removed++;
}

int
vd_keys_retire (const char *dir, const char *role, vd_error_t *err)
{
    if (!vd_keys_role_known (role))
        return vd_error_set (err, VD_ERR_PERMANENT, "unknown role \"%s\"", role);
    s_retire_t r = {dir, role, 0};
    return vd_keys_each (dir, s_retire_one, &r, err) < 0 ? -1 : r.removed;
}

void
vd_keys_remove_dir (const char *dir)
{
    zdir_t *d = zdir_new (dir, NULL);
    if (d)
        zdir_remove (d, true);
    zdir_destroy (&d);
}

/*  --------------------------------------------------------------------
    Self test */

static void
s_count (void *arg, const char *role, const char *key, const char *file)
{
    (void)role, (void)key, (void)file;
    (*(int *)arg)++;
}

int
vd_keys_test (bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/vd-keys-test-XXXXXX";
    if (!mkdtemp (dir))
        return -1;
    vd_error_t err;
    vd_error_clear (&err);
    char pub[VD_KEYS_TEXT], sec[VD_KEYS_TEXT], server[VD_KEYS_TEXT], path[KEY_PATH];
    failures += vd_keys_make (dir, "loader", false, &err) != 1;
    failures += vd_keys_make (dir, "loader", false, &err) != 0; /* kept */
    failures += vd_keys_make (dir, "intruder", false, &err) != -1;
    s_path (path, "%s/loader.key", dir);
    failures += vd_keys_load_secret (path, "loader", pub, sec, &err) != 0;
    failures += vd_keys_public (dir, "loader", server, &err) != 0 || strcmp (pub, server) != 0;
    /* the key of another role, or a key others may read, is refused */
    failures += vd_keys_load_secret (path, "normalizer", pub, sec, &err) != -1;
    failures +=
        chmod (path, 0640) != 0 || vd_keys_load_secret (path, "loader", pub, sec, &err) != -1;
    failures += chmod (path, 0600) != 0;
    /* rotation: the new key is the current one, the old one still counts */
    failures += vd_keys_make (dir, "loader", true, &err) != 1;
    char rotated[VD_KEYS_TEXT];
    failures += vd_keys_public (dir, "loader", rotated, &err) != 0 || strcmp (rotated, pub) == 0;
    int n = 0;
    failures += vd_keys_each (dir, s_count, &n, &err) != 2 || n != 2;
    failures += vd_keys_retire (dir, "loader", &err) != 1;
    n = 0;
    failures += vd_keys_each (dir, s_count, &n, &err) != 1;
    /* a public file without a role is skipped */
    s_path (path, "%s/public/stray.pub", dir);
    FILE *f = fopen (path, "w");
    if (f) {
        fputs ("curve\n    public-key = \"short\"\n", f);
        fclose (f);
    }
    failures += vd_keys_each (dir, s_count, &n, &err) != 1;
    explicit_bzero (sec, sizeof sec);
    vd_keys_remove_dir (dir);
    if (verbose)
        printf ("  vd_keys: %d failures\n", failures);
    return failures ? -1 : 0;
}
