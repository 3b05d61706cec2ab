/*  cli_http - the CLI's calls to the orchestrator API (through vd_httpc).

    Every call has a connect and a total timeout, and the answer body a
    ceiling: the CLI never hangs on a silent orchestrator. Query values
    are escaped with vd_httpc_escape.
*/
#ifndef CLI_HTTP_H_INCLUDED
#define CLI_HTTP_H_INCLUDED

#include "vd_error.h"
#include "vd_httpc.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define CLI_HTTP_MAX_BODY (256 * 1024 * 1024)

typedef struct {
    long status;  /* HTTP status                                   */
    char *body;   /* raw body, NUL-terminated (malloc'ed)           */
    size_t len;   /* its bytes (a PDF holds NULs)                   */
    json_t *json; /* the body parsed, NULL when it is not JSON      */
} cli_reply_t;

/*  method path (with query) on base; body (borrowed, may be NULL) sent as
    JSON. Returns 0 when an HTTP answer came (any status; reply filled),
    -1 with err when none did (connection refused, timeout, ...). */
int cli_http_call (const char *base, const char *method, const char *path, const json_t *body,
                   long timeout_ms, cli_reply_t *reply, vd_error_t *err);
void cli_reply_clear (cli_reply_t *reply);

/*  Writes the reply's body to path (NULL: stdout). Returns 0, -1 after
    printing why on stderr. */
int cli_reply_save (const cli_reply_t *reply, const char *path);

/*  Credentials every later call sends (VENDANGE_API_TOKEN as a bearer
    token, else VENDANGE_API_USER / VENDANGE_API_PASSWORD as basic auth);
    borrowed, "" or NULL when unset. cli_api_url sets them. */
void cli_http_set_auth (const char *token, const char *user, const char *password);

/*  Prints an API error answer ("vendange: <error>" then detail and hint
    lines) on stderr. */
void cli_print_api_error (const cli_reply_t *reply);
/*  Prints err the same way (e.g. "cannot reach the orchestrator"). */
void cli_print_error (const vd_error_t *err);

/*  Calls the API and checks the status is one of ok_status (0 ends the
    list): prints the error and returns -1 otherwise. */
int cli_api (const char *base, const char *method, const char *path, const json_t *body,
             cli_reply_t *reply, const long *ok_status);

#endif
