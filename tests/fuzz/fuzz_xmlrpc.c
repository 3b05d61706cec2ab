/*  fuzz_xmlrpc - the streaming XML-RPC answer parser, fed in pieces (the
    first byte sets the piece size) as the network delivers them, with and
    without the per-element callback. */
#include "vendange.h"
#include "odoo_xmlrpc.h"

static int
s_each (json_t *item, void *arg)
{
    (void)arg;
    json_decref (item);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = 1 + data[0] % 64;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    odoo_xmlrpc_parser_t *p = odoo_xmlrpc_parser_new (data[0] & 0x80 ? s_each : NULL, NULL);
    vd_error_t err;
    vd_error_clear (&err);
    int rc = 0;
    for (size_t at = 0; p && rc == 0 && at < len; at += piece)
        rc = odoo_xmlrpc_parser_feed (p, body + at, len - at < piece ? len - at : piece, &err);
    json_t *result = NULL;
    int code = 0;
    char fault[256];
    if (p && rc == 0)
        (void)odoo_xmlrpc_parser_finish (p, &result, &code, fault, sizeof fault, &err);
    json_decref (result);
    odoo_xmlrpc_parser_destroy (&p);
    return 0;
}
