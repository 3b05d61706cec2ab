/*  hook_auth - the webhook connectors and who may post to them. */
#include "hook_auth.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>

#define MAX_NETS 64
#define MAX_SECRET 1024

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} s_net_t;

typedef struct {
    char name[72];
    hook_source_t source;
    char *token, *user, *password; /* NULL when not set */
    s_net_t allow[MAX_NETS];
    size_t nallow;
    s_net_t proxies[MAX_NETS];
    size_t nproxies;
} s_conn_t;

struct hook_auth {
    pthread_rwlock_t lock;
    s_conn_t *conns;
    size_t count;
    bool configured;
};

hook_auth_t *
hook_auth_new (void)
{
    hook_auth_t *self = calloc (1, sizeof *self);
    if (self && pthread_rwlock_init (&self->lock, NULL) != 0) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_free_conns (s_conn_t *conns, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        /* wipe secrets before giving the memory back */
        if (conns[i].token)
            sodium_memzero (conns[i].token, strlen (conns[i].token));
        if (conns[i].password)
            sodium_memzero (conns[i].password, strlen (conns[i].password));
        free (conns[i].token);
        free (conns[i].user);
        free (conns[i].password);
    }
    free (conns);
}

void
hook_auth_destroy (hook_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hook_auth_t *self = *self_p;
    s_free_conns (self->conns, self->count);
    pthread_rwlock_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/*  One address or CIDR range. Returns 0, -1. */
static int
s_parse_net (const char *text, size_t len, s_net_t *net)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy (buf, text, len);
    buf[len] = '\0';
    char *slash = strchr (buf, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton (AF_INET, buf, net->addr) == 1)
        net->family = AF_INET;
    else if (inet_pton (AF_INET6, buf, net->addr) == 1)
        net->family = AF_INET6;
    else
        return -1;
    int64_t max = net->family == AF_INET ? 32 : 128, prefix = max;
    if (slash && vd_parse_int (slash + 1, 0, max, &prefix) < 0)
        return -1;
    net->prefix = (int)prefix;
    return 0;
}

/*  A comma or space separated list. Returns the count, -1 when an entry
    is not an address or range. */
static long
s_parse_nets (const char *list, s_net_t *nets, size_t max)
{
    size_t n = 0;
    for (const char *p = list ? list : ""; *p;) {
        size_t skip = strspn (p, ", \t");
        p += skip;
        size_t len = strcspn (p, ", \t");
        if (len == 0)
            break;
        if (n == max || s_parse_net (p, len, &nets[n]) < 0)
            return -1;
        n++;
        p += len;
    }
    return (long)n;
}

static bool
s_in_net (const s_net_t *net, int family, const unsigned char *addr)
{
    if (net->family != family)
        return false;
    int full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp (net->addr, addr, (size_t)full) != 0)
        return false;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return rest == 0 || (net->addr[full] & mask) == (addr[full] & mask);
}

static bool
s_in_nets (const s_net_t *nets, size_t n, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (s_in_net (&nets[i], family, addr))
            return true;
    return false;
}

static char *
s_dup_setting (const json_t *settings, const char *key)
{
    const char *v = json_string_value (json_object_get (settings, key));
    return v && *v && strlen (v) < MAX_SECRET ? strdup (v) : NULL;
}

/*  One connector of the configuration; -1 when it cannot be used. */
static int
s_load_conn (const json_t *c, s_conn_t *out)
{
    const char *name = json_string_value (json_object_get (c, "name"));
    const char *type = json_string_value (json_object_get (c, "type"));
    const json_t *settings = json_object_get (c, "settings");
    memset (out, 0, sizeof *out);
    if (!name || strlen (name) >= sizeof out->name || !type)
        return -1;
    if (strcmp (type, "brevo") == 0)
        out->source = HOOK_BREVO;
    else if (strcmp (type, "powerautomate") == 0)
        out->source = HOOK_POWERAUTOMATE;
    else
        return -1;
    snprintf (out->name, sizeof out->name, "%s", name);
    long nallow = s_parse_nets (json_string_value (json_object_get (settings, "allow_ips")),
                                out->allow, MAX_NETS);
    long nproxies = s_parse_nets (json_string_value (json_object_get (settings, "trusted_proxies")),
                                  out->proxies, MAX_NETS);
    if (nallow < 0 || nproxies < 0) {
        vd_warn ("webhook connector %s left out: allow_ips or trusted_proxies holds an entry "
                 "that is not an IP address or CIDR range",
                 name);
        return -1;
    }
    out->nallow = (size_t)nallow;
    out->nproxies = (size_t)nproxies;
    out->token = s_dup_setting (settings, "token");
    out->user = s_dup_setting (settings, "user");
    out->password = s_dup_setting (settings, "password");
    if (!out->token && !(out->user && out->password)) {
        vd_warn ("webhook connector %s left out: it has no token and no user and password", name);
        free (out->token);
        free (out->user);
        free (out->password);
        return -1;
    }
    return 0;
}

size_t
hook_auth_load (hook_auth_t *self, const json_t *config)
{
    const json_t *list = json_object_get (config, "connectors");
    size_t n = json_array_size (list), kept = 0;
    s_conn_t *conns = calloc (n + 1, sizeof *conns);
    if (!conns)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s_load_conn (json_array_get (list, i), &conns[kept]) == 0)
            kept++;
    pthread_rwlock_wrlock (&self->lock);
    s_conn_t *old = self->conns;
    size_t old_count = self->count;
    self->conns = conns;
    self->count = kept;
    self->configured = true;
    pthread_rwlock_unlock (&self->lock);
    s_free_conns (old, old_count);
    return kept;
}

long
hook_auth_size (hook_auth_t *self)
{
    pthread_rwlock_rdlock (&self->lock);
    long n = self->configured ? (long)self->count : -1;
    pthread_rwlock_unlock (&self->lock);
    return n;
}

/*  Constant-time comparison of two secrets of any lengths. */
static bool
s_equal (const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char ha[32], hb[32];
    crypto_generichash (ha, sizeof ha, (const unsigned char *)a, alen, NULL, 0);
    crypto_generichash (hb, sizeof hb, (const unsigned char *)b, blen, NULL, 0);
    return sodium_memcmp (ha, hb, sizeof ha) == 0 && alen == blen;
}

static bool
s_authorized (const s_conn_t *c, const char *header)
{
    if (!header)
        return false;
    size_t len = strlen (header);
    bool ok = false;
    if (c->token) {
        size_t tlen = strlen (c->token);
        bool bearer = len > 7 && strncasecmp (header, "Bearer ", 7) == 0;
        ok |= s_equal (bearer ? header + 7 : header, bearer ? len - 7 : len, c->token, tlen);
    }
    if (c->user && c->password && len > 6 && strncasecmp (header, "Basic ", 6) == 0) {
        char decoded[2 * MAX_SECRET + 2], want[2 * MAX_SECRET + 2];
        size_t n = 0;
        if (sodium_base642bin ((unsigned char *)decoded, sizeof decoded - 1, header + 6, len - 6,
                               " ", &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
            int wlen = snprintf (want, sizeof want, "%s:%s", c->user, c->password);
            ok |= wlen > 0 && s_equal (decoded, n, want, (size_t)wlen);
        }
        sodium_memzero (decoded, sizeof decoded);
        sodium_memzero (want, sizeof want);
    }
    return ok;
}

/*  The client address: the peer, or when the peer is a trusted proxy the
    nearest X-Forwarded-For entry that is not one. Returns the family. */
static int
s_client (const s_conn_t *c, const struct sockaddr *peer, const char *xff, unsigned char *addr)
{
    int family = AF_UNSPEC;
    if (peer && peer->sa_family == AF_INET) {
        family = AF_INET;
        memcpy (addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
    } else if (peer && peer->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr;
        bool mapped = memcmp (a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
        family = mapped ? AF_INET : AF_INET6;
        memcpy (addr, mapped ? a + 12 : a, mapped ? 4 : 16);
    }
    size_t end = xff ? strlen (xff) : 0;
    while (family != AF_UNSPEC && end > 0 && s_in_nets (c->proxies, c->nproxies, family, addr)) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t b = start, e = end;
        while (b < e && isspace ((unsigned char)xff[b]))
            b++;
        while (e > b && isspace ((unsigned char)xff[e - 1]))
            e--;
        s_net_t hop;
        if (s_parse_net (xff + b, e - b, &hop) < 0 ||
            hop.prefix != (hop.family == AF_INET ? 32 : 128))
            break; /* garbage: believe no further */
        family = hop.family;
        memcpy (addr, hop.addr, 16);
        end = start ? start - 1 : 0;
    }
    return family;
}

/*  The connector a request names; NULL with verdict set. */
static const s_conn_t *
s_find (hook_auth_t *self, hook_source_t source, const char *name, hook_verdict_t *v)
{
    const s_conn_t *found = NULL;
    size_t of_type = 0;
    for (size_t i = 0; i < self->count; i++) {
        const s_conn_t *c = &self->conns[i];
        if (c->source != source)
            continue;
        of_type++;
        if (!name || strcmp (c->name, name) == 0)
            found = c;
    }
    if (name && !found)
        snprintf (v->msg, sizeof v->msg, "no %s connector named \"%.64s\"",
                  hook_source_name (source), name);
    else if (!name && of_type != 1)
        snprintf (v->msg, sizeof v->msg,
                  of_type ? "several %s connectors: post to /webhooks/%s/NAME"
                          : "no %s connector is registered (%s)",
                  hook_source_name (source), hook_source_name (source));
    else
        return found;
    v->status = 404;
    return NULL;
}

void
hook_auth_check (hook_auth_t *self, hook_source_t source, const char *name,
                 const struct sockaddr *peer, const char *xff, const char *authorization,
                 hook_target_t *target, hook_verdict_t *v)
{
    memset (v, 0, sizeof *v);
    pthread_rwlock_rdlock (&self->lock);
    const s_conn_t *c = NULL;
    unsigned char addr[16] = {0};
    if (!self->configured) {
        v->status = 429;
        snprintf (v->msg, sizeof v->msg, "the gateway has not received its configuration yet");
    } else if ((c = s_find (self, source, name, v)) != NULL) {
        int family = s_client (c, peer, xff, addr);
        if (c->nallow && !s_in_nets (c->allow, c->nallow, family, addr)) {
            v->status = 403;
            snprintf (v->msg, sizeof v->msg, "address not allowed to post to connector %s",
                      c->name);
        } else if (!s_authorized (c, authorization)) {
            v->status = 401;
            v->basic = c->user && c->password;
            snprintf (v->msg, sizeof v->msg, "missing or wrong credentials for connector %s",
                      c->name);
        } else {
            snprintf (target->name, sizeof target->name, "%s", c->name);
            target->source = c->source;
        }
    }
    pthread_rwlock_unlock (&self->lock);
}

/* ---- self test ---------------------------------------------------------- */

static int
s_test_status (hook_auth_t *a, hook_source_t src, const char *name, const char *peer_ip,
               const char *xff, const char *authz)
{
    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    if (strchr (peer_ip, ':')) {
        ss.ss_family = AF_INET6;
        inet_pton (AF_INET6, peer_ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    } else {
        ss.ss_family = AF_INET;
        inet_pton (AF_INET, peer_ip, &((struct sockaddr_in *)&ss)->sin_addr);
    }
    hook_target_t t;
    hook_verdict_t v;
    hook_auth_check (a, src, name, (struct sockaddr *)&ss, xff, authz, &t, &v);
    return v.status;
}

int
hook_auth_test (bool verbose)
{
    int failures = 0;
    hook_auth_t *a = hook_auth_new ();
    failures += hook_auth_size (a) != -1;
    failures += s_test_status (a, HOOK_BREVO, NULL, "1.2.3.4", NULL, "Bearer t") != 429;
    json_t *cfg = json_loads (
        "{\"connectors\":["
        "{\"name\":\"b1\",\"type\":\"brevo\",\"settings\":{\"token\":\"s3cret\","
        "\"allow_ips\":\"1.179.112.0/20, 172.246.240.0/20,::1\",\"trusted_proxies\":\"10.0.0.5\"}},"
        "{\"name\":\"p1\",\"type\":\"powerautomate\",\"settings\":{\"user\":\"flow\","
        "\"password\":\"pw\"}},"
        "{\"name\":\"p2\",\"type\":\"powerautomate\",\"settings\":{\"token\":\"raw-token\"}},"
        "{\"name\":\"bad\",\"type\":\"brevo\",\"settings\":{\"token\":\"x\",\"allow_ips\":\"nope\"}"
        "},"
        "{\"name\":\"nocred\",\"type\":\"brevo\",\"settings\":{\"user\":\"u\"}},"
        "{\"name\":\"x\",\"type\":\"isavigne\",\"settings\":{}}]}",
        0, NULL);
    failures += hook_auth_load (a, cfg) != 3 || hook_auth_size (a) != 3;
    json_decref (cfg);
    const struct {
        hook_source_t src;
        const char *name, *peer, *xff, *authz;
        int want;
    } cases[] = {
        {HOOK_BREVO, NULL, "1.179.113.9", NULL, "Bearer s3cret", 0},
        {HOOK_BREVO, "b1", "1.179.113.9", NULL, "bearer s3cret", 0},
        {HOOK_BREVO, "b1", "1.179.113.9", NULL, "s3cret", 0},
        {HOOK_BREVO, "b1", "1.179.113.9", NULL, "Bearer s3cre", 401},
        {HOOK_BREVO, "b1", "1.179.113.9", NULL, "Bearer s3cretX", 401},
        {HOOK_BREVO, "b1", "1.179.113.9", NULL, NULL, 401},
        {HOOK_BREVO, "b1", "1.179.128.1", NULL, "Bearer s3cret", 403},
        {HOOK_BREVO, "b1", "::ffff:172.246.240.1", NULL, "Bearer s3cret", 0},
        {HOOK_BREVO, "b1", "::1", NULL, "Bearer s3cret", 0},
        /* X-Forwarded-For only from the trusted proxy */
        {HOOK_BREVO, "b1", "10.0.0.5", "9.9.9.9, 1.179.112.1", "Bearer s3cret", 0},
        {HOOK_BREVO, "b1", "10.0.0.5", "1.179.112.1, 9.9.9.9", "Bearer s3cret", 403},
        {HOOK_BREVO, "b1", "10.0.0.6", "1.179.112.1", "Bearer s3cret", 403},
        {HOOK_BREVO, "b1", "10.0.0.5", "garbage", "Bearer s3cret", 403},
        {HOOK_BREVO, "nope", "1.179.113.9", NULL, "Bearer s3cret", 404},
        {HOOK_BREVO, "bad", "1.179.113.9", NULL, "Bearer x", 404},
        {HOOK_POWERAUTOMATE, NULL, "1.2.3.4", NULL, "Basic Zmxvdzpwdw==", 404}, /* two of them */
        {HOOK_POWERAUTOMATE, "p1", "1.2.3.4", NULL, "Basic Zmxvdzpwdw==", 0},   /* flow:pw */
        {HOOK_POWERAUTOMATE, "p1", "1.2.3.4", NULL, "Basic Zmxvdzpwdg==", 401}, /* flow:pv */
        {HOOK_POWERAUTOMATE, "p1", "1.2.3.4", NULL, "Basic !!!", 401},
        {HOOK_POWERAUTOMATE, "p2", "1.2.3.4", NULL, "raw-token", 0},
        {HOOK_POWERAUTOMATE, "p2", "1.2.3.4", NULL, "Basic cmF3LXRva2Vu", 401},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = s_test_status (a, cases[i].src, cases[i].name, cases[i].peer, cases[i].xff,
                                 cases[i].authz);
        if (got != cases[i].want || verbose)
            fprintf (got == cases[i].want ? stdout : stderr,
                     "  hook_auth case %zu: want %d got %d\n", i, cases[i].want, got);
        failures += got != cases[i].want;
    }
    s_net_t net;
    failures += s_parse_net ("10.0.0.0/33", 11, &net) == 0 || s_parse_net ("", 0, &net) == 0 ||
                s_parse_net ("fe80::/10", 9, &net) != 0 || net.prefix != 10;
    hook_auth_destroy (&a);
    failures += a != NULL;
    return failures ? -1 : 0;
}
