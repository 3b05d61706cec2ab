/*  vd_zap - the ZAP handler of a process's CURVE servers. */
#include "vendange.h"
#include "vd_keys.h"
#include "vd_zap.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/*  Which roles may connect to which domain (prefix of the role). */
static const struct {
    const char *domain;
    const char *role_prefix;
} s_policy[] = {
    {"orchestrator", ""},
    {"normalizer", "extractor-"},
    {"loader", "normalizer"},
};

bool
vd_zap_allows (const char *domain, const char *role)
{
    for (size_t i = 0; domain && role && i < sizeof s_policy / sizeof s_policy[0]; i++)
        if (strcmp (domain, s_policy[i].domain) == 0 &&
            strncmp (role, s_policy[i].role_prefix, strlen (s_policy[i].role_prefix)) == 0)
            return vd_keys_role_known (role);
    return false;
}

typedef struct {
    const char *key; /* wanted */
    char role[64];   /* found  */
} s_lookup_t;

static void
s_match (void *arg, const char *role, const char *key, const char *file)
{
    (void)file;
    s_lookup_t *lookup = arg;
    if (strcmp (key, lookup->key) == 0 && !lookup->role[0])
        snprintf (lookup->role, sizeof lookup->role, "%s", role);
}

/*  The status code of a request, and the role (user id) it is for. */
static const char *
s_decide (const char *dir, zmsg_t *request, char *role, size_t size)
{
    char *version = zmsg_popstr (request);
    char *id = zmsg_popstr (request); /* request id: handled by the caller */
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *routing = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    const char *status = "400";
    char text[VD_KEYS_TEXT] = "";
    if (version && strcmp (version, "1.0") == 0 && mechanism && strcmp (mechanism, "CURVE") == 0 &&
        key && zframe_size (key) == 32 && zmq_z85_encode (text, zframe_data (key), 32)) {
        s_lookup_t lookup = {.key = text};
        vd_error_t err;
        vd_error_clear (&err);
        if (vd_keys_each (dir, s_match, &lookup, &err) < 0)
            vd_log_error (VD_LOG_ERROR, &err);
        if (lookup.role[0] && vd_zap_allows (domain, lookup.role)) {
            status = "200";
            snprintf (role, size, "%s", lookup.role);
        } else if (lookup.role[0])
            vd_warn ("%s from %s refused on the %s socket: that role may not connect there",
                     lookup.role, address ? address : "?", domain ? domain : "?");
        else
            vd_warn ("connection from %s refused: unknown CURVE key %s", address ? address : "?",
                     text);
    } else
        vd_warn ("connection from %s refused: no CURVE key", address ? address : "?");
    zstr_free (&version);
    zstr_free (&id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&routing);
    zstr_free (&mechanism);
    zframe_destroy (&key);
    return status;
}

/*  Answers one request: version, request id, status, text, user id,
    metadata (none). */
static void
s_answer (zsock_t *handler, const char *dir)
{
    zmsg_t *request = zmsg_recv (handler);
    if (!request)
        return;
    zframe_t *version = zmsg_first (request);
    zframe_t *id = zmsg_next (request);
    zframe_t *id_copy = id ? zframe_dup (id) : NULL;
    char role[64] = "";
    const char *status = version && id_copy ? s_decide (dir, request, role, sizeof role) : "500";
    zmsg_t *reply = zmsg_new ();
    if (reply && id_copy && zmsg_addstr (reply, "1.0") == 0 && zmsg_append (reply, &id_copy) == 0 &&
        zmsg_addstr (reply, status) == 0 &&
        zmsg_addstr (reply, strcmp (status, "200") == 0 ? "OK" : "refused") == 0 &&
        zmsg_addstr (reply, role) == 0 && zmsg_addmem (reply, "", 0) == 0 &&
        zmsg_send (&reply, handler) == 0)
        ;
    else
        vd_err ("cannot answer a ZAP request");
    zmsg_destroy (&reply);
    zframe_destroy (&id_copy);
    zmsg_destroy (&request);
}

static void
s_actor (zsock_t *pipe, void *args)
{
    char *dir = args;
    zsock_signal (pipe, 0); /* zactor_new waits for this one */
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (!handler || zsock_bind (handler, ZAP_ENDPOINT) < 0) {
        zsock_destroy (&handler);
        zsock_signal (pipe, 1); /* vd_zap_new waits for this one */
        free (dir);
        return;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    if (poller) /* SIGTERM does not stop it: it answers until $TERM */
        zpoller_set_nonstop (poller, true);
    bool terminated = false;
    while (!terminated && poller) {
        void *which = zpoller_wait (poller, -1);
        if (which == handler)
            s_answer (handler, dir);
        else if (which == pipe) {
            char *command = zstr_recv (pipe);
            terminated = !command || strcmp (command, "$TERM") == 0;
            zstr_free (&command);
        } else /* a signal (EINTR) does not end it; the context ending does */
            terminated = zpoller_terminated (poller) && zmq_errno () == ETERM;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&handler);
    free (dir);
}

zactor_t *
vd_zap_new (const char *dir)
{
    char *copy = strdup (dir);
    if (!copy)
        return NULL;
    zactor_t *actor = zactor_new (s_actor, copy);
    if (actor && zsock_wait (actor) != 0)
        zactor_destroy (&actor); /* the actor freed its copy */
    return actor;
}

/*  --------------------------------------------------------------------
    Self test: the handshake itself is tested in vd_curve. */

int
vd_zap_test (bool verbose)
{
    int failures = 0;
    failures += !vd_zap_allows ("orchestrator", "recommender");
    failures += !vd_zap_allows ("normalizer", "extractor-odoo");
    failures += vd_zap_allows ("normalizer", "recommender");
    failures += !vd_zap_allows ("loader", "normalizer");
    failures += vd_zap_allows ("loader", "extractor-isavigne");
    failures += vd_zap_allows ("loader", "normalizer-x"); /* unknown role */
    failures += vd_zap_allows ("other", "loader");
    failures += vd_zap_allows (NULL, "loader");
    if (verbose)
        printf ("  vd_zap: %d failures\n", failures);
    return failures ? -1 : 0;
}
