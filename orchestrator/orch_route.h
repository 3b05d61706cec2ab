/*  orch_route - maps an HTTP method and path to an API endpoint.

    One const table of path templates ("api/connectors/{name}/sync") with
    the methods each accepts. {name} matches a connector name, {id} a
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

typedef enum {
    ORCH_ROUTE_NONE = 0,
    ORCH_ROUTE_WEB,                     /* GET /                               */
    ORCH_ROUTE_HEALTH,                  /* GET /health                         */
    ORCH_ROUTE_STATUS,                  /* GET /api/status, /status            */
    ORCH_ROUTE_CONNECTORS,              /* GET, POST /api/connectors           */
    ORCH_ROUTE_CONNECTOR,               /* GET, PATCH, DELETE .../NAME         */
    ORCH_ROUTE_CONNECTOR_SYNC,          /* POST /api/connectors/NAME/sync      */
    ORCH_ROUTE_RUNS,                    /* GET /api/runs                       */
    ORCH_ROUTE_RUN,                     /* GET /api/runs/ID                    */
    ORCH_ROUTE_RUN_REJECTS,             /* GET /api/runs/ID/rejects            */
    ORCH_ROUTE_CONNECTOR_TEST,          /* POST /api/connectors/NAME/test      */
    ORCH_ROUTE_CONNECTOR_ACCEPT_LAYOUT, /* POST .../NAME/accept-layout */
    ORCH_ROUTE_TEST,                    /* GET /api/tests/ID                   */
    ORCH_ROUTE_METRICS,                 /* GET /metrics                        */
    ORCH_ROUTE_FORGET,                  /* POST /api/forget                    */
    ORCH_ROUTE_QUALITY,                 /* GET /api/quality                    */
    ORCH_ROUTE_QUALITY_CSV,             /* GET /api/quality/anomalies.csv      */
    ORCH_ROUTE_QUALITY_PDF,             /* GET /api/quality.pdf                */
    ORCH_ROUTE_ASSET,                   /* GET a file of the web page (web/)   */
    ORCH_ROUTE_CLASSIC,                 /* GET /classic: the server-rendered page */
    ORCH_ROUTE_MAPPING,                 /* GET /api/mapping                    */
    ORCH_ROUTE_CUSTOMERS,               /* GET /api/customers?q=               */
    ORCH_ROUTE_CUSTOMER,                /* GET /api/customers/KEY              */
    ORCH_ROUTE_CUSTOMER_RECO,           /* GET, POST .../KEY/recommendations   */
    ORCH_ROUTE_RECO_FEEDBACK,           /* POST .../recommendations/PRODUCT/feedback */
    ORCH_ROUTE_RECO_RUNS,               /* GET /api/reco/runs                  */
    ORCH_ROUTE_RECO_RUN,                /* GET /api/reco/runs/ID               */
    ORCH_ROUTE_RECO_QUEUE,              /* POST /api/reco/run                  */
    ORCH_ROUTE_RECO_PRECISION,          /* GET /api/reco/precision             */
    ORCH_ROUTE_RECO_CSV,                /* GET /api/reco/campaign.csv          */
    ORCH_ROUTE_WARNING_LINES,           /* GET /api/warnings/ID/lines          */
    ORCH_ROUTE_ALERTS,                  /* GET /api/alerts                     */
    ORCH_ROUTE_ALERT_RULES,             /* GET, POST /api/alerts/rules         */
    ORCH_ROUTE_ALERT_CHANNELS,          /* GET, POST /api/alerts/channels      */
    ORCH_ROUTE_ALERT_CHANNEL,           /* DELETE /api/alerts/channels/NAME    */
    ORCH_ROUTE_ALERT_TEST,              /* POST /api/alerts/test               */
    ORCH_ROUTE_ALERT_DELIVERY           /* GET /api/alerts/deliveries/ID       */
} orch_route_id_t;

typedef struct {
    orch_route_id_t id;
    bool method_allowed; /* false: the path exists, not with that method */
    const char *allow;   /* the methods the path accepts ("GET, POST")  */
    char name[72];       /* {name}                                       */
    int64_t run_id;      /* {id} (a run; a test, a warning summary)      */
    char key[208];       /* {key}: a customer key                        */
    char product[208];   /* {product}: a product key                     */
} orch_route_t;

/*  Matches method and path (no query string). Returns 0 and fills out
    when the path is known (check out->method_allowed), -1 when no
    endpoint has that path (404). */
int orch_route_match (const char *method, const char *path, orch_route_t *out);

/*  Self test. Returns 0 when every check passes. */
int orch_route_test (bool verbose);

#endif
