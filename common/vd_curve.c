/*  vd_curve - CURVE on a service's ZeroMQ sockets. */
#include "vendange.h"
#include "vd_curve.h"
#include "vd_keys.h"
#include "vd_zap.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* libzmq 4.3 draft option */
#endif

struct vd_curve {
    char role[64];
    char dir[PATH_MAX];
    char public_txt[VD_KEYS_TEXT];
    char secret_txt[VD_KEYS_TEXT];
    zactor_t *zap; /* started with the first server socket */
};

vd_curve_t *
vd_curve_new (const vd_config_t *config, const char *role, vd_error_t *err)
{
    vd_curve_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    snprintf (self->role, sizeof self->role, "%s", role);
    char path[PATH_MAX + 80];
    const char *file = vd_config_str (config, VD_CFG_KEY_FILE);
    if (vd_keys_dir (config, self->dir, sizeof self->dir, err) < 0)
        goto err;
    if (*file)
        snprintf (path, sizeof path, "%s", file);
    else
        snprintf (path, sizeof path, "%s/%s.key", self->dir, role);
    if (vd_keys_load_secret (path, role, self->public_txt, self->secret_txt, err) < 0)
        goto err;
    return self;
err:
    vd_curve_destroy (&self);
    return NULL;
}

void
vd_curve_destroy (vd_curve_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->zap);
    explicit_bzero (*self_p, sizeof **self_p);
    free (*self_p);
    *self_p = NULL;
}

/*  zmq_setsockopt with a NUL-terminated text (Z85 keys: 41 bytes). */
static int
s_set (zsock_t *sock, int option, const char *text, vd_error_t *err)
{
    if (zmq_setsockopt (zsock_resolve (sock), option, text, strlen (text) + 1) == 0)
        return 0;
    vd_error_set (err, VD_ERR_PERMANENT, "cannot set up CURVE on a ZeroMQ socket");
    return vd_error_detail (err, "zmq: %s", zmq_strerror (zmq_errno ()));
}

/*  The socket's own key pair. */
static int
s_own_keys (vd_curve_t *self, zsock_t *sock, vd_error_t *err)
{
    if (s_set (sock, ZMQ_CURVE_PUBLICKEY, self->public_txt, err) < 0 ||
        s_set (sock, ZMQ_CURVE_SECRETKEY, self->secret_txt, err) < 0)
        return -1;
    return 0;
}

int
vd_curve_server (vd_curve_t *self, zsock_t *sock, const char *domain, vd_error_t *err)
{
    if (!self->zap && (self->zap = vd_zap_new (self->dir)) == NULL)
        return vd_error_set (err, VD_ERR_PERMANENT, "cannot start the ZAP handler");
    int on = 1;
    if (zmq_setsockopt (zsock_resolve (sock), ZMQ_CURVE_SERVER, &on, sizeof on) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot set up CURVE on a ZeroMQ socket");
        return vd_error_detail (err, "zmq: %s", zmq_strerror (zmq_errno ()));
    }
    if (s_own_keys (self, sock, err) < 0 || s_set (sock, ZMQ_ZAP_DOMAIN, domain, err) < 0)
        return -1;
    /* no ZAP handler (this process stopping): refuse rather than accept
       any key; a libzmq built without this option has the handler up
       all the socket's life anyway */
    (void)zmq_setsockopt (zsock_resolve (sock), ZMQ_ZAP_ENFORCE_DOMAIN, &on, sizeof on);
    /* the allow-list must be readable now, not at the first client */
    vd_error_t probe;
    vd_error_clear (&probe);
    char key[VD_KEYS_TEXT];
    if (vd_keys_public (self->dir, self->role, key, &probe) < 0 ||
        strcmp (key, self->public_txt) != 0)
        vd_warn ("this %s's key is not public/%s.pub of %s: clients expecting that one will "
                 "not connect",
                 self->role, self->role, self->dir);
    return 0;
}

int
vd_curve_client (vd_curve_t *self, zsock_t *sock, const char *server_role, vd_error_t *err)
{
    char server[VD_KEYS_TEXT];
    if (vd_keys_public (self->dir, server_role, server, err) < 0)
        return -1;
    if (s_own_keys (self, sock, err) < 0 || s_set (sock, ZMQ_CURVE_SERVERKEY, server, err) < 0)
        return -1;
    return 0;
}

const char *
vd_curve_peer_role (zframe_t *frame)
{
    const char *role = frame ? zframe_meta (frame, "User-Id") : NULL;
    return role && *role ? role : NULL;
}

/*  --------------------------------------------------------------------
    Self test */

/*  A DEALER to endpoint: CURVE client as role (NULL: no CURVE at all,
    "stranger": an unknown key). */
static zsock_t *
s_client (const char *dir, const char *role, const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    zsock_set_linger (sock, 0);
    char server[VD_KEYS_TEXT], pub[VD_KEYS_TEXT], sec[VD_KEYS_TEXT], path[PATH_MAX + 80];
    vd_error_t err;
    vd_error_clear (&err);
    int rc = 0;
    if (role && strcmp (role, "stranger") == 0) {
        zcert_t *cert = zcert_new ();
        rc = cert && vd_keys_public (dir, "orchestrator", server, &err) == 0 ? 0 : -1;
        if (rc == 0) {
            zcert_apply (cert, sock);
            zsock_set_curve_serverkey (sock, server);
        }
        zcert_destroy (&cert);
    } else if (role) {
        snprintf (path, sizeof path, "%s/%s.key", dir, role);
        rc = vd_keys_load_secret (path, role, pub, sec, &err) == 0 &&
                     vd_keys_public (dir, "orchestrator", server, &err) == 0
                 ? 0
                 : -1;
        if (rc == 0) {
            zsock_set_curve_publickey (sock, pub);
            zsock_set_curve_secretkey (sock, sec);
            zsock_set_curve_serverkey (sock, server);
        }
    }
    if (rc < 0 || zsock_connect (sock, "%s", endpoint) < 0)
        zsock_destroy (&sock);
    return sock;
}

/*  The User-Id a message from role reaches the server with, "" when none
    arrives within 1 s. */
static void
s_try (zsock_t *server, const char *dir, const char *role, const char *endpoint, char *out,
       size_t size)
{
    out[0] = '\0';
    zsock_t *client = s_client (dir, role, endpoint);
    if (!client || zstr_send (client, "hello") < 0) {
        zsock_destroy (&client);
        return;
    }
    zsock_set_rcvtimeo (server, 1000);
    zmsg_t *msg = zmsg_recv (server);
    const char *who = msg ? vd_curve_peer_role (zmsg_last (msg)) : NULL;
    snprintf (out, size, "%s", who ? who : (msg ? "(none)" : ""));
    zmsg_destroy (&msg);
    zsock_destroy (&client);
}

int
vd_curve_test (bool verbose)
{
    int failures = 0;
    char dir[] = "/tmp/vd-curve-test-XXXXXX";
    if (!mkdtemp (dir))
        return -1;
    vd_error_t err;
    vd_error_clear (&err);
    const char *roles[] = {"orchestrator", "extractor-odoo", "recommender"};
    for (size_t i = 0; i < 3; i++)
        failures += vd_keys_make (dir, roles[i], false, &err) != 1;
    setenv ("VENDANGE_KEYS_DIR", dir, 1);
    vd_config_t *cfg = vd_config_load (VD_SVC_ORCHESTRATOR, &err);
    unsetenv ("VENDANGE_KEYS_DIR");
    vd_curve_t *curve = cfg ? vd_curve_new (cfg, "orchestrator", &err) : NULL;
    failures += curve == NULL;
    /* the key of another role is refused */
    vd_curve_t *wrong = cfg ? vd_curve_new (cfg, "loader", &err) : NULL;
    failures += wrong != NULL;
    vd_curve_destroy (&wrong);
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    int port = -1;
    if (curve && server && vd_curve_server (curve, server, "orchestrator", &err) == 0)
        port = zsock_bind (server, "tcp://127.0.0.1:*");
    failures += port <= 0;
    if (port > 0) {
        char endpoint[64], who[64];
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
        s_try (server, dir, "extractor-odoo", endpoint, who, sizeof who);
        failures += strcmp (who, "extractor-odoo") != 0;
        s_try (server, dir, NULL, endpoint, who, sizeof who); /* no CURVE */
        failures += strcmp (who, "") != 0;
        s_try (server, dir, "stranger", endpoint, who, sizeof who); /* unknown key */
        failures += strcmp (who, "") != 0;
        /* a rotated key is accepted, the old one too until retired */
        failures += vd_keys_make (dir, "recommender", true, &err) != 1;
        s_try (server, dir, "recommender", endpoint, who, sizeof who);
        failures += strcmp (who, "recommender") != 0;
    }
    zsock_destroy (&server);
    vd_curve_destroy (&curve);
    vd_config_destroy (&cfg);
    vd_keys_remove_dir (dir);
    if (verbose)
        printf ("  vd_curve: %d failures\n", failures);
    return failures ? -1 : 0;
}
