/*  vd_addr - host:port addresses of the HTTP servers. */
#include "vendange.h"
#include "vd_addr.h"
#include <netdb.h>
#include <netinet/in.h>

int
vd_addr_parse (const char *addr, char *host, size_t size, int *port)
{
    if (!addr || !*addr)
        return -1;
    const char *colon;
    const char *h = addr;
    size_t hlen;
    if (addr[0] == '[') {
        const char *close = strchr (addr, ']');
        if (!close || close[1] != ':')
            return -1;
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr (addr, ':');
        if (!colon || memchr (addr, ':', (size_t)(colon - addr)))
            return -1; /* bare IPv6 needs brackets */
        hlen = (size_t)(colon - addr);
    }
    int64_t p;
    if (hlen >= size || vd_parse_int (colon + 1, 1, 65535, &p) < 0)
        return -1;
    memcpy (host, h, hlen);
    host[hlen] = '\0';
    if (strcmp (host, "*") == 0)
        host[0] = '\0';
    *port = (int)p;
    return 0;
}

int
vd_addr_resolve (const char *host, int port, struct sockaddr_storage *out, socklen_t *len,
                 vd_error_t *err)
{
    char service[8];
    snprintf (service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *list = NULL;
    int rc = getaddrinfo (*host ? host : NULL, service, &hints, &list);
    if (rc != 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "cannot resolve HTTP address \"%s\"", host);
        vd_error_detail (err, "%s", gai_strerror (rc));
        return -1;
    }
    struct addrinfo *pick = list;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    memcpy (out, pick->ai_addr, pick->ai_addrlen);
    *len = pick->ai_addrlen;
    freeaddrinfo (list);
    return 0;
}

int
vd_addr_test (bool verbose)
{
    int failed = 0;
    char host[64];
    int port = 0;
    failed += vd_addr_parse ("127.0.0.1:8480", host, sizeof host, &port) < 0 ||
              strcmp (host, "127.0.0.1") != 0 || port != 8480;
    failed += vd_addr_parse ("*:80", host, sizeof host, &port) < 0 || *host || port != 80;
    failed += vd_addr_parse (":9000", host, sizeof host, &port) < 0 || *host;
    failed +=
        vd_addr_parse ("[::1]:8480", host, sizeof host, &port) < 0 || strcmp (host, "::1") != 0;
    failed += vd_addr_parse ("orchestrator:8480", host, sizeof host, &port) < 0 ||
              strcmp (host, "orchestrator") != 0;
    failed += vd_addr_parse ("::1:8480", host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("localhost", host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("h:0", host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("h:65536", host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("h:80x", host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("[::1]8480", host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("", host, sizeof host, &port) == 0;
    failed += vd_addr_parse (NULL, host, sizeof host, &port) == 0;
    failed += vd_addr_parse ("a-very-long-host-name-that-does-not-fit-in-the-buffer-"
                             "given-here.example.org:1",
                             host, sizeof host, &port) == 0;
    /* resolved: a numeric address, every interface, a bracketed IPv6 */
    struct sockaddr_storage ss;
    socklen_t len = 0;
    vd_error_t err;
    vd_error_clear (&err);
    failed += vd_addr_resolve ("127.0.0.1", 8480, &ss, &len, &err) < 0 || ss.ss_family != AF_INET ||
              ntohs (((struct sockaddr_in *)&ss)->sin_port) != 8480;
    failed += vd_addr_resolve ("", 80, &ss, &len, &err) < 0;
    failed += vd_addr_resolve ("::1", 80, &ss, &len, &err) < 0 || ss.ss_family != AF_INET6;
    failed += vd_addr_resolve ("no-such-host.invalid", 80, &ss, &len, &err) == 0 ||
              !strstr (err.msg, "no-such-host.invalid");
    if (verbose)
        printf ("vd_addr_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
