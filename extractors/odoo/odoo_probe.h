/*  odoo_probe - an Odoo connector's settings, and its `connector test`.

    The orchestrator sends {"type":"test","request_id":...,"settings":...}
    to an idle extractor; the answer (protocol.md) is
      {"type":"tested","request_id":...,"ok":bool,"summary":"...",
       "checks":[{"check":"reach|version|authenticate|model:<m>",
                  "ok":bool,"message":"..."}],
       "warnings":[...], "details":{"transport":..,"server_version":..},
       "error":{"reason","detail","hint"}}       (when ok is false)
    The API key never appears in it.
*/
#ifndef ODOO_PROBE_H_INCLUDED
#define ODOO_PROBE_H_INCLUDED

#include "vendange.h"
#include "odoo_client.h"
#include "odoo_mapping.h"

typedef struct {
    const char *url, *database, *user, *api_key, *transport, *ca_file;
    const char *field_mapping, *unit_table;
    int page_size;
    int safety_lag_s;
    int64_t reconcile_s;
} odoo_settings_t;

/*  Reads a start's or test's "settings" (borrowed: the strings live in
    it). Returns 0, -1 with err naming the bad or missing setting. */
int odoo_settings_read (const json_t *settings, odoo_settings_t *out, vd_error_t *err);

/*  Client options from settings (attempts: per call). */
odoo_client_opts_t odoo_settings_client (const odoo_settings_t *s, int attempts,
                                         vd_httpc_tick_fn *tick, void *arg);

/*  Answers a test request (connects to the server: up to ~20 s). */
json_t *odoo_probe_answer (const json_t *request, vd_httpc_tick_fn *tick, void *arg);

/*  The answer from its parts (checks, warnings, details: stolen; err:
    NULL when ok). Any occurrence of secret is redacted. */
json_t *odoo_probe_build (const char *request_id, const char *summary, json_t *checks,
                          json_t *warnings, json_t *details, const vd_error_t *err,
                          const char *secret);

int odoo_probe_test (bool verbose);

#endif
