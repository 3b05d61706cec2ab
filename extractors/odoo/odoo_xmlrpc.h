/*  odoo_xmlrpc - XML-RPC as Odoo speaks it: a request writer and a
    streaming response parser (libxml2 push parser with SAX callbacks).

    Values map to JSON (jansson): int/i4/i8 -> integer, boolean -> true/
    false, double -> real, string and untyped text -> string,
    dateTime.iso8601 -> its text, base64 -> its text (not decoded), nil ->
    null, struct -> object, array -> array. Odoo itself writes datetimes
    and dates as strings, False for empty values and never nil; the parser
    still accepts the standard forms.

    Memory: the parser holds the value being built, never the XML text.
    With an item callback, the elements of a top-level array (the records
    of a search_read) are handed over one by one as soon as each is
    complete, so a page of any size needs one record of memory here.
*/
#ifndef ODOO_XMLRPC_H_INCLUDED
#define ODOO_XMLRPC_H_INCLUDED

#include "vendange.h"
#include <jansson.h>

#define ODOO_XMLRPC_MAX_TEXT (16 * 1024 * 1024) /* one scalar value            */
#define ODOO_XMLRPC_MAX_DEPTH 64                /* nested arrays and structs   */

/*  Appends a methodCall of method with params (a JSON array, borrowed) to
    out. JSON null is written as False (Odoo's empty value), integers out
    of the 32-bit range as <i8>. Returns 0, -1 with err (a value JSON
    cannot hold, or out's ceiling). */
int odoo_xmlrpc_write_call (vd_buf_t *out, const char *method, const json_t *params,
                            vd_error_t *err);

typedef struct odoo_xmlrpc_parser odoo_xmlrpc_parser_t;

/*  Receives one element of the top-level array (a new reference the
    callee owns). Returns 0, -1 to stop the parse (with its reason). */
typedef int (odoo_xmlrpc_item_fn) (json_t *item, void *arg);

/*  A parser for one response. each may be NULL (the whole value is
    kept). NULL when out of memory. */
odoo_xmlrpc_parser_t *odoo_xmlrpc_parser_new (odoo_xmlrpc_item_fn *each, void *arg);
void odoo_xmlrpc_parser_destroy (odoo_xmlrpc_parser_t **self_p);

/*  Feeds bytes as they arrive. Returns 0, -1 with err on malformed XML,
    a value of the wrong shape, or a value past the ceilings. */
int odoo_xmlrpc_parser_feed (odoo_xmlrpc_parser_t *self, const char *data, size_t len,
                             vd_error_t *err);

/*  Ends the parse. Returns 0 with *result (new reference; an empty array
    when the elements were streamed), 1 for a fault (*code, message in
    fault of size fault_size), -1 with err: kind TRANSIENT when the
    document just stopped early (a truncated body), PERMANENT when it is
    malformed. */
int odoo_xmlrpc_parser_finish (odoo_xmlrpc_parser_t *self, json_t **result, int *code, char *fault,
                               size_t fault_size, vd_error_t *err);

/*  Elements handed to the item callback so far. */
size_t odoo_xmlrpc_parser_items (const odoo_xmlrpc_parser_t *self);

int odoo_xmlrpc_test (bool verbose);

#endif
