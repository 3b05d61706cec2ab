/*  orch_assets - the embedded files of the web page. */
#include "vendange.h"
#include "orch_assets.h"

static const char *
s_type (const char *path)
{
    const char *dot = strrchr (path, '.');
    if (dot && strcmp (dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp (dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "text/html; charset=utf-8";
}

static const orch_asset_t *
s_find (const char *path)
{
    if (!path || strcmp (path, "/") == 0 || *path == '\0')
        path = "/index.html";
    for (size_t i = 0; i < orch_web_nassets; i++)
        if (strcmp (orch_web_assets[i].path, path) == 0)
            return &orch_web_assets[i];
    return NULL;
}

void
orch_assets_get (const char *path, orch_answer_t *a)
{
    const orch_asset_t *f = s_find (path);
    if (!f) {
        orch_answer_error (a, 404, "no such file", path, NULL);
        return;
    }
    char *copy = malloc (f->len + 1);
    if (!copy) {
        orch_answer_error (a, 500, "out of memory", NULL, NULL);
        return;
    }
    memcpy (copy, f->data, f->len);
    copy[f->len] = '\0';
    a->status = 200;
    a->html = copy;
    a->content_type = s_type (f->path);
}

int
orch_assets_test (bool verbose)
{
    int failed = 0;
    orch_answer_t a;
    memset (&a, 0, sizeof a);
    orch_assets_get ("/", &a);
    failed += a.status != 200 || !a.html || strstr (a.html, "<!DOCTYPE html>") == NULL;
    orch_answer_clear (&a);
    orch_assets_get ("/app.js", &a);
    failed += a.status != 200 || strcmp (a.content_type, "text/javascript; charset=utf-8") != 0;
    orch_answer_clear (&a);
    orch_assets_get ("/nope.js", &a);
    failed += a.status != 404;
    orch_answer_clear (&a);
    if (verbose)
        printf ("orch_assets_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}
