/*  orch_json - small jansson helpers shared by the orchestrator and the CLI. */
#ifndef ORCH_JSON_H_INCLUDED
#define ORCH_JSON_H_INCLUDED

#include "vd_error.h"
#include <jansson.h>
#include <stdint.h>

/*  A JSON string holding s (NULL gives JSON null). Invalid UTF-8 is
    replaced by U+FFFD, so the result is never NULL unless out of memory. */
json_t *orch_json_text (const char *s);

/*  {"error": msg, "detail": ..., "hint": ...}: detail and hint only when
    non-empty. */
json_t *orch_json_error (const char *msg, const char *detail, const char *hint);

/*  The same from an error struct. */
json_t *orch_json_from_error (const vd_error_t *err);

/*  Member key of obj as a string, NULL when missing or not a string. */
const char *orch_json_str (const json_t *obj, const char *key);
/*  The same, "" when missing or not a string (for printing). */
const char *orch_json_member (const json_t *obj, const char *key);

/*  Member key of obj as an integer into *out; -1 when missing or not an
    integer. */
int orch_json_int (const json_t *obj, const char *key, int64_t *out);

/*  Self test. Returns 0 when every check passes. */
int orch_json_test (bool verbose);

#endif
