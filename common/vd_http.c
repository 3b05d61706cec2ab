/*  vd_http - what the HTTP servers share. */
#include "vd_http.h"
#include "vd_addr.h"
#include <arpa/inet.h>
#include <netinet/in.h>

static void
s_log (void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf (msg, sizeof msg, fmt, ap);
    msg[strcspn (msg, "\n")] = '\0';
    vd_debug ("%s http server: %s", (const char *)cls, msg);
}

struct MHD_Daemon *
vd_http_start (const vd_http_listen_t *l, MHD_AccessHandlerCallback access, void *cls,
               vd_error_t *err)
{
    char host[256];
    int port;
    struct sockaddr_storage sa;
    socklen_t salen;
    if (vd_addr_parse (l->addr, host, sizeof host, &port) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid %s address \"%s\"", l->who,
                      l->addr ? l->addr : "");
        snprintf (err->hint, sizeof err->hint, "%s is host:port, e.g. %s", l->variable, l->example);
        return NULL;
    }
    if (vd_addr_resolve (host, port, &sa, &salen, err) < 0)
        return NULL;
    unsigned flags = l->flags | MHD_USE_ERROR_LOG | (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *daemon =
        MHD_start_daemon (flags, (uint16_t)port, NULL, NULL, access, cls,
                          MHD_OPTION_EXTERNAL_LOGGER, s_log, (void *)l->who, MHD_OPTION_SOCK_ADDR,
                          (struct sockaddr *)&sa, MHD_OPTION_ARRAY, l->options, MHD_OPTION_END);
    if (!daemon) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot listen on %s", l->addr);
        vd_error_detail (err, "%s", strerror (errno));
        snprintf (err->hint, sizeof err->hint, "is another %s running? %s sets the address", l->who,
                  l->variable);
    }
    return daemon;
}

int
vd_http_body_add (vd_buf_t *body, const char *data, size_t *size)
{
    int rc = vd_buf_add (body, data, *size);
    *size = 0;
    return rc < 0 ? -1 : 0;
}

static enum MHD_Result
s_refuse_all (void *cls, struct MHD_Connection *c, const char *url, const char *method,
              const char *version, const char *data, size_t *size, void **state)
{
    (void)cls, (void)c, (void)url, (void)method, (void)version, (void)data, (void)size, (void)state;
    return MHD_NO;
}

int
vd_http_test (bool verbose)
{
    int failures = 0;
    vd_error_t err;
    vd_error_clear (&err);
    static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    vd_http_listen_t l = {
        "nonsense", "VENDANGE_X_ADDR", "127.0.0.1:1", "selftest", MHD_USE_AUTO_INTERNAL_THREAD,
        none};
    /* a malformed address: a message naming the setting, no server */
    failures += vd_http_start (&l, NULL, NULL, &err) != NULL ||
                !strstr (err.msg, "invalid selftest address") ||
                !strstr (err.hint, "VENDANGE_X_ADDR");
    /* a port taken: a clear message */
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    char addr[32] = "";
    if (fd >= 0 && bind (fd, (struct sockaddr *)&sin, sizeof sin) == 0 && listen (fd, 1) == 0 &&
        getsockname (fd, (struct sockaddr *)&sin, &len) == 0)
        snprintf (addr, sizeof addr, "127.0.0.1:%d", ntohs (sin.sin_port));
    vd_error_clear (&err);
    l.addr = addr;
    struct MHD_Daemon *d = *addr ? vd_http_start (&l, s_refuse_all, NULL, &err) : NULL;
    failures += !*addr || d != NULL || !strstr (err.msg, "cannot listen on") ||
                !strstr (err.hint, "is another selftest running?");
    if (d)
        MHD_stop_daemon (d);
    if (fd >= 0)
        close (fd);
    /* the body limit */
    vd_buf_t body;
    vd_buf_init (&body, 8);
    size_t n = 5;
    failures += vd_http_body_add (&body, "abcde", &n) != 0 || n != 0 || body.len != 5;
    n = 5;
    failures += vd_http_body_add (&body, "fghij", &n) != -1 || n != 0;
    vd_buf_free (&body);
    if (verbose)
        printf ("  vd_http: %d failures\n", failures);
    return failures ? -1 : 0;
}
