/*  vd_http - what vendange's two HTTP servers (the webhook gateway's and
    the orchestrator's, both libmicrohttpd) share: the server started on
    its host:port (resolved, IPv6 too) with its log lines at debug level
    (written per connection: a slow client would flood the log), and a
    request body read up to its limit.
*/
#ifndef VD_HTTP_H_INCLUDED
#define VD_HTTP_H_INCLUDED

#include "vendange.h"
#include <microhttpd.h>

typedef struct {
    const char *addr;                     /* host:port, "[v6]:port", "*:port"            */
    const char *variable;                 /* the setting that gives it (messages)         */
    const char *example;                  /* an address to show in the message            */
    const char *who;                      /* the program that may hold the port already  */
    unsigned flags;                       /* MHD_USE_* threading flags                     */
    const struct MHD_OptionItem *options; /* more, up to MHD_OPTION_END */
} vd_http_listen_t;

/*  Starts the server; NULL with err (the address malformed or not
    resolved, the port taken). */
struct MHD_Daemon *vd_http_start (const vd_http_listen_t *listen, MHD_AccessHandlerCallback access,
                                  void *cls, vd_error_t *err);

/*  Appends an uploaded chunk (data, *size) to body and sets *size to 0.
    Returns 0, -1 when the body passes its limit (vd_buf_init's max). */
int vd_http_body_add (vd_buf_t *body, const char *data, size_t *size);

int vd_http_test (bool verbose);

#endif
