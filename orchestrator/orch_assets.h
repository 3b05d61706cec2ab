/*  orch_assets - the files of the web page (web/ html, css and js),
    embedded in the binary at build time (deploy/embed-web.sh writes
    $(BUILD)/gen/web_assets.c), served as GET / (index.html), /app.js,
    /app.css. The page is static: it talks to the JSON API only.
*/
#ifndef ORCH_ASSETS_H_INCLUDED
#define ORCH_ASSETS_H_INCLUDED

#include "orch_api.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *path; /* "/index.html" */
    const unsigned char *data;
    size_t len;
} orch_asset_t;

extern const orch_asset_t orch_web_assets[];
extern const size_t orch_web_nassets;

/*  Answers GET path ("/" is /index.html) with the file and its content
    type, 404 when no such file. */
void orch_assets_get (const char *path, orch_answer_t *a);

/*  Self test. */
int orch_assets_test (bool verbose);

#endif
