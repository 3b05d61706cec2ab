/*  orch_registry - the services the orchestrator knows, in memory. */
#include "vendange.h"
#include "orch_json.h"
#include "orch_registry.h"

struct orch_registry {
    orch_service_t **items;
    size_t count;
    size_t cap;
};

/*  Copies member key of msg (a string of 1 to size-1 printable bytes)
    into out. Returns 0, -1. */
static int
s_copy_field (const json_t *msg, const char *key, char *out, size_t size, bool required)
{
    json_t *v = json_object_get (msg, key);
    if (!v || json_is_null (v)) {
        out[0] = '\0';
        return required ? -1 : 0;
    }
    const char *s = json_string_value (v);
    size_t n = s ? json_string_length (v) : 0;
    if (!s || n == 0 || n >= size || strlen (s) != n)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return -1;
    memcpy (out, s, n + 1);
    return 0;
}

bool
orch_role_is_extractor (const char *role)
{
    return strncmp (role, "extractor", 9) == 0;
}

int
orch_heartbeat_parse (const json_t *msg, orch_heartbeat_t *out, vd_error_t *err)
{
    memset (out, 0, sizeof *out);
    static const struct {
        const char *key;
        size_t offset, size;
        bool required;
    } fields[] = {
        {"instance", offsetof (orch_heartbeat_t, instance), sizeof out->instance, true},
        {"role", offsetof (orch_heartbeat_t, role), sizeof out->role, true},
        {"kind", offsetof (orch_heartbeat_t, kind), sizeof out->kind, false},
        {"host", offsetof (orch_heartbeat_t, host), sizeof out->host, false},
        {"version", offsetof (orch_heartbeat_t, version), sizeof out->version, false},
        {"state", offsetof (orch_heartbeat_t, state), sizeof out->state, true},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (s_copy_field (msg, fields[i].key, (char *)out + fields[i].offset, fields[i].size,
                          fields[i].required) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "heartbeat with a missing or bad \"%s\"",
                                 fields[i].key);
    if (strcmp (out->state, "idle") != 0 && strcmp (out->state, "busy") != 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "heartbeat with an unknown state");
    if (orch_role_is_extractor (out->role) && out->kind[0] == '\0')
        return vd_error_set (err, VD_ERR_PERMANENT, "extractor heartbeat without a \"kind\"");
    if (orch_json_int (msg, "pid", &out->pid) < 0 || out->pid < 0 || out->pid > INT32_MAX)
        return vd_error_set (err, VD_ERR_PERMANENT, "heartbeat with a missing or bad \"pid\"");
    json_t *run = json_object_get (msg, "run_id");
    if (run && !json_is_null (run) && (!json_is_integer (run) || json_integer_value (run) < 0))
        return vd_error_set (err, VD_ERR_PERMANENT, "heartbeat with a bad \"run_id\"");
    out->reported_run = json_is_integer (run) ? (int64_t)json_integer_value (run) : 0;
    return 0;
}

orch_registry_t *
orch_registry_new (void)
{
    return calloc (1, sizeof (orch_registry_t));
}

void
orch_registry_destroy (orch_registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orch_registry_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        zframe_destroy (&self->items[i]->identity);
        free (self->items[i]);
    }
    free (self->items);
    free (self);
    *self_p = NULL;
}

orch_service_t *
orch_registry_find (orch_registry_t *self, const char *instance)
{
    for (size_t i = 0; instance && i < self->count; i++)
        if (strcmp (self->items[i]->hb.instance, instance) == 0)
            return self->items[i];
    return NULL;
}

static orch_service_t *
s_add (orch_registry_t *self, const char *instance)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        orch_service_t **items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return NULL;
        self->items = items;
        self->cap = cap;
    }
    orch_service_t *s = calloc (1, sizeof *s);
    if (!s)
        return NULL;
    snprintf (s->hb.instance, sizeof s->hb.instance, "%s", instance);
    self->items[self->count++] = s;
    return s;
}

orch_service_t *
orch_registry_heartbeat (orch_registry_t *self, const orch_heartbeat_t *hb, zframe_t *identity,
                         int64_t now_ms, orch_hb_change_t *change)
{
    orch_service_t *s = orch_registry_find (self, hb->instance);
    *change = ORCH_HB_KNOWN;
    if (!s) {
        s = s_add (self, hb->instance);
        if (!s)
            return NULL;
        *change = ORCH_HB_NEW;
    } else if (!s->alive)
        *change = ORCH_HB_REVIVED;
    if (identity && (!s->identity || !zframe_eq (s->identity, identity))) {
        zframe_t *copy = zframe_dup (identity);
        if (copy) {
            zframe_destroy (&s->identity);
            s->identity = copy;
        }
    }
    s->hb = *hb;
    s->last_seen_ms = now_ms;
    s->alive = true;
    return s;
}

size_t
orch_registry_size (orch_registry_t *self)
{
    return self->count;
}

orch_service_t *
orch_registry_at (orch_registry_t *self, size_t i)
{
    return i < self->count ? self->items[i] : NULL;
}

bool
orch_registry_has_live (orch_registry_t *self, const char *role, const char *kind)
{
    for (size_t i = 0; i < self->count; i++) {
        orch_service_t *s = self->items[i];
        if (s->alive && strcmp (s->hb.role, role) == 0 && (!kind || strcmp (s->hb.kind, kind) == 0))
            return true;
    }
    return false;
}

bool
orch_registry_has_extractor (orch_registry_t *self, const char *kind)
{
    for (size_t i = 0; i < self->count; i++) {
        orch_service_t *s = self->items[i];
        if (s->alive && orch_role_is_extractor (s->hb.role) && strcmp (s->hb.kind, kind) == 0)
            return true;
    }
    return false;
}

orch_service_t *
orch_registry_idle_extractor (orch_registry_t *self, const char *kind)
{
    orch_service_t *best = NULL;
    for (size_t i = 0; i < self->count; i++) {
        orch_service_t *s = self->items[i];
        if (!s->alive || !orch_role_is_extractor (s->hb.role) || strcmp (s->hb.kind, kind) != 0 ||
            s->busy_run != 0)
            continue;
        bool free_now = strcmp (s->hb.state, "idle") == 0 ||
                        (s->done_run != 0 && s->hb.reported_run == s->done_run);
        if (free_now && (!best || s->assigned_ms < best->assigned_ms))
            best = s;
    }
    return best;
}

void
orch_registry_missing (orch_registry_t *self, const char *type, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = 0;
    if (!orch_registry_has_extractor (self, type))
        n += (size_t)snprintf (out, size, "no extractor of type %s is connected", type);
    if (!orch_registry_has_live (self, "normalizer", NULL) && n < size)
        n += (size_t)snprintf (out + n, size - n, "%sno normalizer is connected", n ? "; " : "");
    if (!orch_registry_has_live (self, "loader", NULL) && n < size)
        snprintf (out + n, size - n, "%sno loader is connected", n ? "; " : "");
}

orch_service_t *
orch_registry_next_dead (orch_registry_t *self, int64_t now_ms, int64_t dead_after_ms)
{
    for (size_t i = 0; i < self->count; i++) {
        orch_service_t *s = self->items[i];
        if (s->alive && now_ms - s->last_seen_ms > dead_after_ms) {
            s->alive = false;
            return s;
        }
    }
    return NULL;
}

void
orch_registry_prune (orch_registry_t *self, int64_t now_ms, int64_t forget_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->count; i++) {
        orch_service_t *s = self->items[i];
        if (!s->alive && now_ms - s->last_seen_ms > forget_ms) {
            zframe_destroy (&s->identity);
            free (s);
        } else
            self->items[kept++] = s;
    }
    self->count = kept;
}

/*  A heartbeat message as text, parsed into hb. */
static int
s_parse (const char *text, orch_heartbeat_t *hb)
{
    json_t *msg = json_loads (text, 0, NULL);
    int rc = orch_heartbeat_parse (msg, hb, NULL);
    json_decref (msg);
    return rc;
}

static void
s_test_parse (int *failed)
{
    orch_heartbeat_t hb;
    VD_CHECK (failed, s_parse ("{\"role\":\"extractor-isavigne\",\"instance\":\"e\",\"pid\":1,"
                               "\"state\":\"idle\"}",
                               &hb) < 0);
    VD_CHECK (failed,
              s_parse ("{\"role\":\"loader\",\"instance\":\"l\",\"pid\":\"1\",\"state\":\"idle\"}",
                       &hb) < 0);
    VD_CHECK (failed,
              s_parse ("{\"role\":\"loader\",\"instance\":\"l\",\"pid\":1,\"state\":\"sleepy\"}",
                       &hb) < 0);
    VD_CHECK (
        failed,
        s_parse ("{\"role\":\"loader\",\"instance\":\"l\\u0001\",\"pid\":1,\"state\":\"idle\"}",
                 &hb) < 0);
    VD_CHECK (failed,
              s_parse ("{\"role\":\"loader\",\"instance\":\"l\",\"pid\":1,\"state\":\"idle\","
                       "\"run_id\":-3}",
                       &hb) < 0);
    VD_CHECK (failed, s_parse ("[1]", &hb) < 0);
    VD_CHECK (failed, s_parse ("{}", &hb) < 0);
}

static void
s_test_registry (int *failed, orch_heartbeat_t *ext, orch_heartbeat_t *load)
{
    orch_registry_t *reg = orch_registry_new ();
    orch_hb_change_t change;
    char missing[200];
    orch_registry_missing (reg, "isavigne", missing, sizeof missing);
    VD_CHECK (failed,
              strcmp (missing, "no extractor of type isavigne is connected; no normalizer is "
                               "connected; no loader is connected") == 0);
    zframe_t *id = zframe_new ("ID", 2);
    orch_service_t *e = orch_registry_heartbeat (reg, ext, id, 1000, &change);
    VD_CHECK (failed, e && change == ORCH_HB_NEW && zframe_eq (e->identity, id));
    VD_CHECK (failed,
              orch_registry_heartbeat (reg, load, NULL, 1000, &change) && change == ORCH_HB_NEW);
    orch_registry_missing (reg, "isavigne", missing, sizeof missing);
    VD_CHECK (failed, strcmp (missing, "no normalizer is connected") == 0);
    VD_CHECK (failed, orch_registry_has_extractor (reg, "isavigne"));
    VD_CHECK (failed, !orch_registry_has_extractor (reg, "odoo"));
    VD_CHECK (failed, orch_registry_has_live (reg, "loader", NULL));
    VD_CHECK (failed, orch_registry_idle_extractor (reg, "isavigne") == e);
    e->busy_run = 5;
    VD_CHECK (failed, orch_registry_idle_extractor (reg, "isavigne") == NULL);
    e->busy_run = 0;
    e->done_run = 5;
    ext->reported_run = 5;
    snprintf (ext->state, sizeof ext->state, "busy");
    orch_registry_heartbeat (reg, ext, id, 2000, &change);
    VD_CHECK (failed, change == ORCH_HB_KNOWN);
    VD_CHECK (failed, orch_registry_idle_extractor (reg, "isavigne") == e);
    ext->reported_run = 3; /* busy with a stale run: not free */
    orch_registry_heartbeat (reg, ext, id, 2000, &change);
    VD_CHECK (failed, orch_registry_idle_extractor (reg, "isavigne") == NULL);
    VD_CHECK (failed, orch_registry_next_dead (reg, 62000, 60000) != NULL); /* the loader */
    VD_CHECK (failed, orch_registry_next_dead (reg, 62000, 60000) == NULL);
    VD_CHECK (failed, !orch_registry_has_live (reg, "loader", NULL));
    VD_CHECK (failed, orch_registry_heartbeat (reg, load, NULL, 63000, &change) &&
                          change == ORCH_HB_REVIVED);
    VD_CHECK (failed, orch_registry_next_dead (reg, 200000, 60000) != NULL);
    VD_CHECK (failed, orch_registry_next_dead (reg, 200000, 60000) != NULL);
    orch_registry_prune (reg, 200000, 1000);
    VD_CHECK (failed, orch_registry_size (reg) == 0);
    zframe_destroy (&id);
    orch_registry_destroy (&reg);
    VD_CHECK (failed, reg == NULL);
}

int
orch_registry_test (bool verbose)
{
    int count = 0;
    int *failed = &count;
    orch_heartbeat_t ext, load, norm;
    VD_CHECK (failed,
              s_parse ("{\"type\":\"heartbeat\",\"role\":\"extractor-isavigne\",\"kind\":"
                       "\"isavigne\",\"instance\":\"e1\",\"pid\":12,\"host\":\"h\",\"state\":"
                       "\"idle\",\"run_id\":0,\"version\":\"0.1.0\"}",
                       &ext) == 0);
    VD_CHECK (failed, strcmp (ext.kind, "isavigne") == 0 && ext.pid == 12);
    VD_CHECK (failed, s_parse ("{\"role\":\"loader\",\"kind\":null,\"instance\":\"l1\",\"pid\":13,"
                               "\"state\":\"busy\",\"run_id\":4}",
                               &load) == 0);
    VD_CHECK (failed, load.reported_run == 4 && load.kind[0] == '\0');
    VD_CHECK (failed, s_parse ("{\"role\":\"normalizer\",\"instance\":\"n1\",\"pid\":14,"
                               "\"state\":\"idle\"}",
                               &norm) == 0);
    s_test_parse (failed);
    s_test_registry (failed, &ext, &load);
    if (verbose)
        printf ("orch_registry_test: %d failure(s)\n", count);
    return count ? -1 : 0;
}
#undef CHECK
