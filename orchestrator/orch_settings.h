/*  orch_settings - connector names, types and settings (SPEC "Connector
    settings"), validated from one table.

    A setting value comes as a JSON string (what the CLI sends), a number
    or a boolean. Validated values are stored as JSON strings, except
    boolean settings (JSON true/false) and integer settings (JSON
    integers). Encodings are stored under their canonical name
    (vd_utf8_encoding_name). Secret settings (odoo api_key, webhook token
    and password) are split out of the settings: they are never returned
    by the API nor logged.
*/
#ifndef ORCH_SETTINGS_H_INCLUDED
#define ORCH_SETTINGS_H_INCLUDED

#include "vd_error.h"
#include <jansson.h>
#include <stdbool.h>

#define ORCH_SETTING_MAX_BYTES 4096 /* one setting value                 */

/*  True when name matches ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (the DDL). */
bool orch_settings_name_valid (const char *name);

/*  True for isavigne, odoo, brevo, powerautomate. */
bool orch_settings_type_known (const char *type);

/*  True when key is a secret setting of that connector type. */
bool orch_settings_is_secret (const char *type, const char *key);

/*  True when key is a secret setting of any type (api_key, token,
    password): never given literally on the command line. */
bool orch_settings_is_secret_name (const char *key);

/*  True when key says where the secrets are sent (odoo url, database,
    user; a webhook's user): changing it drops the stored secrets. */
bool orch_settings_is_endpoint (const char *type, const char *key);

/*  True when key is a file or folder setting of that type (the CLI makes
    relative paths absolute before sending them). */
bool orch_settings_is_path (const char *type, const char *key);

/*  0 when a file setting may name path: inside the connector's export
    folder (export_path, "" or NULL when none) or a folder of files_root
    (VENDANGE_FILES_ROOT, colon separated), written without "." or ".."
    segments. -1 with err naming the setting (never the file's content). */
int orch_settings_path_allowed (const char *type, const char *key, const char *path,
                                const char *export_path, const char *files_root, vd_error_t *err);

/*  Validates settings (a JSON object, borrowed) for a connector type.
    On success returns 0 and sets *public_out (settings without secrets)
    and *secrets_out (secret settings, possibly empty): new references the
    caller json_decref()s. File settings must be under the roots
    (orch_settings_path_allowed); an http:// Odoo URL needs
    allow_insecure=true. On failure returns -1 with err (msg names the
    bad setting, hint lists the accepted ones); outputs stay NULL. */
int orch_settings_validate (const char *type, json_t *settings, const char *files_root,
                            json_t **public_out, json_t **secrets_out, vd_error_t *err);

/*  Self test. Returns 0 when every check passes. */
int orch_settings_test (bool verbose);

#endif
