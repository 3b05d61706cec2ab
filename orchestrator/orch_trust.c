/*  orch_trust - who may say what on the control channel. */
#include "vendange.h"
#include "vd_fence.h"
#include "orch_registry.h"
#include "orch_trust.h"

#define ANY "*"
#define EXTRACTOR "extractor-"

/*  Message type -> the roles that send it (ANY, EXTRACTOR: a prefix). */
static const struct {
    const char *type;
    const char *roles[3];
} s_senders[] = {
    {"heartbeat", {ANY}},
    {"loaded", {"loader"}},
    {"batch_committed", {"loader"}},
    {"extracted", {EXTRACTOR}},
    {"line_hashes", {EXTRACTOR}},
    {"tested", {EXTRACTOR}},
    {"hook_run", {"extractor-webhook"}},
    {"hook_config_ack", {"extractor-webhook"}},
    {"progress", {"loader", "normalizer", EXTRACTOR}},
    {"failed", {"loader", "normalizer", EXTRACTOR}},
    {"run_status", {"normalizer"}},
};

static bool
s_sends (const char *type, const char *role)
{
    for (size_t i = 0; i < sizeof s_senders / sizeof s_senders[0]; i++) {
        if (strcmp (type, s_senders[i].type) != 0)
            continue;
        for (size_t k = 0; k < 3 && s_senders[i].roles[k]; k++) {
            const char *r = s_senders[i].roles[k];
            if (strcmp (r, ANY) == 0 || strcmp (r, role) == 0 ||
                (strcmp (r, EXTRACTOR) == 0 && orch_role_is_extractor (role)))
                return true;
        }
        return false;
    }
    return false;
}

bool
orch_trust_check (const json_t *msg, const char *peer_role, char *why, size_t size)
{
    const char *type = json_string_value (json_object_get (msg, "type"));
    const char *role = json_string_value (json_object_get (msg, "role"));
    const char *kind = json_string_value (json_object_get (msg, "kind"));
    why[0] = '\0';
    if (!peer_role)
        snprintf (why, size, "a peer without an authenticated role");
    else if (!role || strcmp (role, peer_role) != 0)
        snprintf (why, size, "claims role \"%s\" but its key is the key of %s", role ? role : "",
                  peer_role);
    else if (!type || !s_sends (type, peer_role))
        snprintf (why, size, "%s does not send \"%s\" messages", peer_role, type ? type : "");
    else if (strcmp (type, "heartbeat") == 0 && orch_role_is_extractor (peer_role) &&
             (!kind || strcmp (kind, peer_role + strlen (EXTRACTOR)) != 0))
        snprintf (why, size, "%s claims to serve connectors of type \"%s\"", peer_role,
                  kind ? kind : "");
    return why[0] == '\0';
}

json_t *
orch_trust_run_status (orch_active_t *active, PGconn *conn, const json_t *msg, vd_error_t *err)
{
    json_int_t id = json_integer_value (json_object_get (msg, "run_id"));
    orch_active_run_t *run = id > 0 ? orch_active_find (active, id) : NULL;
    int open = 0;
    char status[32];
    if (run)
        open = run->failure ? 0 : 1;
    else if (id > 0 && (open = vd_fence_open (conn, id, status, sizeof status, err)) < 0)
        return NULL;
    return json_pack ("{s:s, s:I, s:b}", "type", "run_status", "run_id", id, "open", open);
}

/*  --------------------------------------------------------------------
    Self test */

static bool
s_ok (const char *json, const char *peer)
{
    json_t *msg = json_loads (json, 0, NULL);
    char why[200];
    bool ok = msg && orch_trust_check (msg, peer, why, sizeof why);
    json_decref (msg);
    return ok;
}

int
orch_trust_test (bool verbose)
{
    int failures = 0;
    const char *hb_isv = "{\"type\":\"heartbeat\",\"role\":\"extractor-isavigne\","
                         "\"kind\":\"isavigne\"}";
    failures += !s_ok (hb_isv, "extractor-isavigne");
    failures += s_ok (hb_isv, NULL);
    failures += s_ok (hb_isv, "extractor-webhook"); /* a role it does not hold */
    /* the key of an iSaVigne extractor cannot serve webhook connectors */
    failures += s_ok ("{\"type\":\"heartbeat\",\"role\":\"extractor-isavigne\","
                      "\"kind\":\"webhook\"}",
                      "extractor-isavigne");
    failures += !s_ok ("{\"type\":\"heartbeat\",\"role\":\"loader\"}", "loader");
    failures += !s_ok ("{\"type\":\"loaded\",\"role\":\"loader\",\"run_id\":1}", "loader");
    failures +=
        s_ok ("{\"type\":\"loaded\",\"role\":\"extractor-odoo\",\"run_id\":1}", "extractor-odoo");
    failures += s_ok ("{\"type\":\"loaded\",\"role\":\"loader\",\"run_id\":1}", "extractor-odoo");
    failures += !s_ok ("{\"type\":\"extracted\",\"role\":\"extractor-odoo\"}", "extractor-odoo");
    failures += s_ok ("{\"type\":\"extracted\",\"role\":\"normalizer\"}", "normalizer");
    failures += s_ok ("{\"type\":\"hook_run\",\"role\":\"extractor-odoo\"}", "extractor-odoo");
    failures += !s_ok ("{\"type\":\"failed\",\"role\":\"normalizer\"}", "normalizer");
    failures += s_ok ("{\"type\":\"failed\",\"role\":\"recommender\"}", "recommender");
    failures +=
        s_ok ("{\"type\":\"batch_committed\",\"role\":\"extractor-webhook\"}", "extractor-webhook");
    failures += s_ok ("{\"role\":\"loader\"}", "loader"); /* no type */
    failures += !s_ok ("{\"type\":\"run_status\",\"role\":\"normalizer\"}", "normalizer");
    failures += s_ok ("{\"type\":\"run_status\",\"role\":\"loader\"}", "loader");
    if (verbose)
        printf ("  orch_trust: %d failures\n", failures);
    return failures ? -1 : 0;
}
