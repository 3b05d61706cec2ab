/*  orch_route - matches an HTTP path against an endpoint's template
    (the endpoints are declared once, in orch_api's table).

    A template is a path ("api/connectors/{name}/sync"). {name} matches a
    connector name, {id} a
    positive run id, {key} and {product} a customer and a product key
    (any segment of 1 to 200 bytes without control characters). The path
    is the one sent, percent-encoded: it is split on '/' first, then each
    segment is decoded, so a key may hold an encoded '/'. A trailing '/'
    is ignored.
*/
#ifndef ORCH_ROUTE_H_INCLUDED
#define ORCH_ROUTE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

/*  A request's path, split into its decoded segments. */
#define ORCH_PATH_MAX_SEGMENTS 8
typedef struct {
    char buf[512];
    char *seg[ORCH_PATH_MAX_SEGMENTS];
    int nseg;
} orch_path_t;

/*  What a template's {...} segments matched. */
typedef struct {
    char name[72];     /* {name}                                       */
    int64_t run_id;    /* {id} (a run; a test, a warning summary)      */
    char key[208];     /* {key}: a customer key                        */
    char product[208]; /* {product}: a product key                     */
} orch_route_t;

/*  Splits and decodes path (no query string). 0, -1 when it cannot be
    an endpoint's (too long, too many or empty segments, a bad escape). */
int orch_path_split (const char *path, orch_path_t *out);

/*  True when path matches the template tmpl ("api/connectors/{name}/sync",
    no leading '/'); out holds what its {...} segments matched. */
bool orch_route_match (const char *tmpl, const orch_path_t *path, orch_route_t *out);

/*  Self test. Returns 0 when every check passes. */
int orch_route_test (bool verbose);

#endif
