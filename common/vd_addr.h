/*  vd_addr - host:port addresses of the HTTP servers (orchestrator API,
    webhook gateway).
*/
#ifndef VD_ADDR_H_INCLUDED
#define VD_ADDR_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*  Splits "host:port", "[v6]:port", "*:port" or ":port" (host "" means
    every interface). Returns 0, -1 when malformed or the port is not
    1..65535. */
int vd_addr_parse (const char *addr, char *host, size_t size, int *port);

/*  Resolves host:port into out (IPv4 preferred). Returns 0, -1 with err. */
int vd_addr_resolve (const char *host, int port, struct sockaddr_storage *out, socklen_t *len,
                     vd_error_t *err);

int vd_addr_test (bool verbose);

#endif
