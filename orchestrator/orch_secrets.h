/*  orch_secrets - connector secrets sealed in ops.connectors.secrets.

    The API seals a connector's secret settings (api_key, token,
    password...) with the orchestrator's key, bound to the connector's
    name; the control loop opens them only to put them into a start or
    test message for an extractor. Their names (never their values) are
    kept in clear in ops.connectors.secret_names for display.
*/
#ifndef ORCH_SECRETS_H_INCLUDED
#define ORCH_SECRETS_H_INCLUDED

#include "vd_error.h"
#include "vd_secret.h"
#include <jansson.h>
#include <libpq-fe.h>

/*  Seals the object sec (secret name -> value) for connector name as hex
    text for a bytea parameter (decode($n, 'hex')). Returns 0 with *hex
    malloc'ed, or NULL when sec is empty; -1 with err (no key). */
int orch_secrets_seal (const vd_secret_key_t *key, const char *name, const json_t *sec, char **hex,
                       vd_error_t *err);

/*  Opens hex (encode(secrets, 'hex')) of connector name into an object
    (the caller json_decref()s it; {} when hex is NULL or empty). NULL with
    err (no key, wrong key, damaged). */
json_t *orch_secrets_open (const vd_secret_key_t *key, const char *name, const char *hex,
                           vd_error_t *err);

/*  Seals the secrets an older version stored in clear (JSON text).
    Returns how many connectors it sealed; -1 with err on a database error,
    or when some are in clear and there is no key (they stay as they are;
    the caller warns and goes on). */
int orch_secrets_upgrade (PGconn *conn, const vd_secret_key_t *key, vd_error_t *err);

int orch_secrets_test (bool verbose);

#endif
