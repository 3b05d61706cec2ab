/*  vd_keys - the CURVE key files of vendange's services.

    One key pair per role (orchestrator, normalizer, loader,
    extractor-isavigne, extractor-odoo, extractor-webhook, recommender),
    in a keys folder (VENDANGE_KEYS_DIR, default $VENDANGE_HOME/keys):

      <role>.key          the role's secret certificate (czmq's zcert text
                          format: public and secret key, metadata role),
                          mode 0600; only that service reads it
      public/<role>.pub   its public certificate: the key the services
                          accept for that role, and the server key its
                          clients expect (orchestrator, normalizer, loader)
      public/<role>.<UTC time>.pub
                          an older key of the role, still accepted while
                          a rotation is under way (vd_keys_retire drops it)

    Every file of public/ ending in .pub is part of the allow-list; its
    "role" metadata says which role the key authenticates.
*/
#ifndef VD_KEYS_H_INCLUDED
#define VD_KEYS_H_INCLUDED

#include "vd_config.h"
#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>

#define VD_KEYS_TEXT 41 /* a key in Z85 text, with its NUL */

/*  The roles, NULL-terminated. */
extern const char *const vd_keys_roles[];

/*  True when role is one of vd_keys_roles. */
bool vd_keys_role_known (const char *role);

/*  The keys folder: VENDANGE_KEYS_DIR, else $VENDANGE_HOME/keys. Returns
    0, -1 with err when neither is set. */
int vd_keys_dir (const vd_config_t *config, char *out, size_t size, vd_error_t *err);

/*  Makes role's key pair in dir when it has none (rotate false; returns 1
    made, 0 already there), or a new pair in place of the current one,
    whose public key stays accepted as public/<role>.<time>.pub (rotate
    true; returns 1). -1 with err. The secret file is written 0600 and
    renamed into place. */
int vd_keys_make (const char *dir, const char *role, bool rotate, vd_error_t *err);

/*  Removes the older public keys of role (left by a rotation). Returns
    how many, -1 with err. */
int vd_keys_retire (const char *dir, const char *role, vd_error_t *err);

/*  Reads the secret certificate path, refused unless a regular file only
    its owner may read, holding both keys and metadata role equal to role.
    Fills the Z85 texts. 0, -1 with err (the secret is never quoted). */
int vd_keys_load_secret (const char *path, const char *role, char *public_txt, char *secret_txt,
                         vd_error_t *err);

/*  The current public key of role (public/<role>.pub) into out
    (VD_KEYS_TEXT bytes). 0, -1 with err. */
int vd_keys_public (const char *dir, const char *role, char *out, vd_error_t *err);

/*  Calls fn(arg, role, key) for every accepted public key of dir (a file
    of public/ ending in .pub, holding a key and a known role; others are
    skipped). Returns how many, -1 when public/ cannot be read. */
typedef void (vd_keys_fn) (void *arg, const char *role, const char *key, const char *file);
int vd_keys_each (const char *dir, vd_keys_fn *fn, void *arg, vd_error_t *err);

/*  Removes a keys folder and everything in it (self tests). */
void vd_keys_remove_dir (const char *dir);

/*  Self test. */
int vd_keys_test (bool verbose);

#endif
