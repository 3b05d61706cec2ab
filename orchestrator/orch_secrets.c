/*  orch_secrets - connector secrets sealed in ops.connectors.secrets. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_secrets.h"

int
orch_secrets_seal (const vd_secret_key_t *key, const char *name, const json_t *sec, char **hex,
                   vd_error_t *err)
{
    *hex = NULL;
    if (!json_is_object (sec) || json_object_size (sec) == 0)
        return 0;
    char *plain = json_dumps (sec, JSON_COMPACT);
    if (!plain)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    size_t len = 0;
    unsigned char *blob = vd_secret_seal (key, name, plain, strlen (plain), &len, err);
    vd_secret_free (plain);
    if (!blob)
        return -1;
    *hex = vd_hex_encode (blob, len);
    free (blob);
    return *hex ? 0 : vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
}

json_t *
orch_secrets_open (const vd_secret_key_t *key, const char *name, const char *hex, vd_error_t *err)
{
    if (!hex || !*hex)
        return json_object ();
    size_t len = 0;
    unsigned char *blob = vd_hex_decode (hex, &len);
    char *plain = blob ? vd_secret_open (key, name, blob, len, err) : NULL;
    free (blob);
    if (!plain)
        return NULL;
    json_t *sec = json_loads (plain, 0, NULL);
    vd_secret_free (plain);
    if (!json_is_object (sec)) {
        json_decref (sec);
        vd_error_set (err, VD_ERR_PERMANENT, "the stored secrets of \"%s\" are damaged", name);
        return NULL;
    }
    return sec;
}

/*  Seals row i (name, secrets as clear JSON text) in place. */
static int
s_seal_row (PGconn *conn, const vd_secret_key_t *key, const PGresult *res, int i, vd_error_t *err)
{
    const char *name = PQgetvalue (res, i, 0);
    json_t *sec = json_loads (PQgetvalue (res, i, 1), 0, NULL);
    char *hex = NULL;
    int rc = json_is_object (sec) ? orch_secrets_seal (key, name, sec, &hex, err)
                                  : vd_error_set (err, VD_ERR_PERMANENT,
                                                  "clear secrets of \"%s\" are not JSON", name);
    json_decref (sec);
    const char *params[] = {name, hex};
    if (rc == 0)
        rc = vd_db_command (conn,
                            "UPDATE ops.connectors SET secrets = decode($2, 'hex') "
                            "WHERE name = $1",
                            2, params, err);
    free (hex);
    return rc;
}

int
orch_secrets_upgrade (PGconn *conn, const vd_secret_key_t *key, vd_error_t *err)
{
    /* a sealed blob starts with its version byte (1); clear JSON with '{' */
    PGresult *res = vd_db_exec (conn,
                                "SELECT name, convert_from(secrets, 'UTF8') FROM ops.connectors "
                                "WHERE length(secrets) > 0 AND get_byte(secrets, 0) = 123",
                                0, NULL, err);
    if (!res)
        return -1;
    int n = PQntuples (res), rc = 0;
    if (n > 0 && !key->set) {
        vd_error_set (err, VD_ERR_PERMANENT, "%d connector(s) have secrets stored in clear", n);
        snprintf (err->hint, sizeof err->hint,
                  "set VENDANGE_SECRET_KEY for the orchestrator and restart it: it seals them");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < n; i++)
        rc = s_seal_row (conn, key, res, i, err);
    PQclear (res);
    return rc < 0 ? -1 : n;
}

int
orch_secrets_test (bool verbose)
{
    (void)verbose;
    int failures = 0;
    char text[VD_SECRET_KEY_HEX + 1];
    vd_secret_key_generate (text);
    vd_secret_key_t key = {0}, none = {0};
    vd_secret_key_parse (text, &key);
    vd_error_t err;
    vd_error_clear (&err);
    json_t *sec = json_pack ("{s:s}", "api_key", "k-123456");
    char *hex = NULL;
    failures += orch_secrets_seal (&key, "odoo1", sec, &hex, &err) != 0 || !hex;
    failures += hex && strstr (hex, "6b2d313233") != NULL; /* "k-123" in hex */
    json_t *back = hex ? orch_secrets_open (&key, "odoo1", hex, &err) : NULL;
    failures += !back || !json_equal (back, sec);
    json_decref (back);
    /* another connector, no key, garbage, empty */
    failures += hex && orch_secrets_open (&key, "odoo2", hex, &err) != NULL;
    failures += hex && orch_secrets_open (&none, "odoo1", hex, &err) != NULL;
    failures += orch_secrets_open (&key, "odoo1", "zz", &err) != NULL;
    back = orch_secrets_open (&key, "odoo1", NULL, &err);
    failures += !back || json_object_size (back) != 0;
    json_decref (back);
    free (hex);
    failures += orch_secrets_seal (&none, "odoo1", sec, &hex, &err) == 0;
    json_t *empty = json_object ();
    failures += orch_secrets_seal (&none, "odoo1", empty, &hex, &err) != 0 || hex != NULL;
    json_decref (empty);
    json_decref (sec);
    vd_secret_key_clear (&key);
    return failures;
}
