/*  odoo_json2 - the JSON-2 API's codec (Odoo 19+).

    Request: POST /json/2/<model>/<method>, headers "Authorization: bearer
    <key>" and "X-Odoo-Database: <db>", body a JSON object with "ids",
    "context" and every argument by name. Success: 200 and the method's
    return value as JSON. Error: a 4xx/5xx status and a JSON object
    {"name", "message", "arguments", "context", "debug"}.
*/
#ifndef ODOO_JSON2_H_INCLUDED
#define ODOO_JSON2_H_INCLUDED

#include "vendange.h"
#include <jansson.h>

#define ODOO_JSON2_MAX_BODY ((size_t)256 * 1024 * 1024) /* one answer */

/*  The request path for model and method into out; -1 when a name holds
    characters that do not belong in a model or method name. */
int odoo_json2_path (const char *model, const char *method, char *out, size_t size);

/*  Decodes an answer. status 200: returns 0 with *result (new reference,
    any JSON value). Otherwise -1 with err: the status's meaning for a
    user (401: rotate the API key), the server's message, kind TRANSIENT
    for 409 (serialization conflict), 502, 503, 504 and for a body that
    stops early, PERMANENT for the rest. model names the request. */
int odoo_json2_decode (long status, const char *body, size_t len, const char *model,
                       json_t **result, vd_error_t *err);

int odoo_json2_test (bool verbose);

#endif
