/*  odoo_xmlrpc - XML-RPC writer and streaming parser. */
#include "odoo_xmlrpc.h"
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

/* ---- writer ------------------------------------------------------------- */

static int
s_write_escaped (vd_buf_t *out, const char *s, size_t len)
{
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        char c = s[i];
        rc = c == '<'    ? vd_buf_addstr (out, "&lt;")
             : c == '>'  ? vd_buf_addstr (out, "&gt;")
             : c == '&'  ? vd_buf_addstr (out, "&amp;")
             : c == '\r' ? vd_buf_addstr (out, "&#13;")
                         : vd_buf_addc (out, c);
    }
    return rc;
}

static int
s_write_value (vd_buf_t *out, const json_t *v, int depth)
{
    if (depth > ODOO_XMLRPC_MAX_DEPTH)
        return -1;
    int rc = vd_buf_addstr (out, "<value>");
    switch (json_typeof (v)) {
    case JSON_STRING:
        rc |= vd_buf_addstr (out, "<string>");
        rc |= s_write_escaped (out, json_string_value (v), json_string_length (v));
        rc |= vd_buf_addstr (out, "</string>");
        break;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value (v);
        const char *tag = i >= INT32_MIN && i <= INT32_MAX ? "int" : "i8";
        rc |= vd_buf_printf (out, "<%s>%" JSON_INTEGER_FORMAT "</%s>", tag, i, tag);
        break;
    }
    case JSON_REAL:
        rc |= vd_buf_printf (out, "<double>%.17g</double>", json_real_value (v));
        break;
    case JSON_TRUE:
        rc |= vd_buf_addstr (out, "<boolean>1</boolean>");
        break;
    case JSON_FALSE:
    case JSON_NULL: /* Odoo's empty value */
        rc |= vd_buf_addstr (out, "<boolean>0</boolean>");
        break;
    case JSON_ARRAY: {
        rc |= vd_buf_addstr (out, "<array><data>");
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item) rc |= s_write_value (out, item, depth + 1);
        rc |= vd_buf_addstr (out, "</data></array>");
        break;
    }
    case JSON_OBJECT: {
        rc |= vd_buf_addstr (out, "<struct>");
        const char *key;
        json_t *item;
        json_object_foreach ((json_t *)v, key, item)
        {
            rc |= vd_buf_addstr (out, "<member><name>");
            rc |= s_write_escaped (out, key, strlen (key));
            rc |= vd_buf_addstr (out, "</name>");
            rc |= s_write_value (out, item, depth + 1);
            rc |= vd_buf_addstr (out, "</member>");
        }
        rc |= vd_buf_addstr (out, "</struct>");
        break;
    }
    }
    rc |= vd_buf_addstr (out, "</value>");
    return rc ? -1 : 0;
}

int
odoo_xmlrpc_write_call (vd_buf_t *out, const char *method, const json_t *params, vd_error_t *err)
{
    int rc = vd_buf_addstr (out, "<?xml version=\"1.0\"?>\n<methodCall><methodName>");
    rc |= s_write_escaped (out, method, strlen (method));
    rc |= vd_buf_addstr (out, "</methodName><params>");
    size_t i;
    json_t *item;
    json_array_foreach (params, i, item)
    {
        rc |= vd_buf_addstr (out, "<param>");
        rc |= s_write_value (out, item, 0);
        rc |= vd_buf_addstr (out, "</param>");
    }
    rc |= vd_buf_addstr (out, "</params></methodCall>\n");
    return rc ? vd_error_set (err, VD_ERR_PERMANENT, "XML-RPC request too large or too deep") : 0;
}

/* ---- parser ------------------------------------------------------------- */

typedef enum {
    K_NONE,
    K_STRING,
    K_INT,
    K_BOOLEAN,
    K_DOUBLE,
    K_DATETIME,
    K_BASE64,
    K_NIL
} s_scalar_t;

typedef struct {
    json_t *container;
    bool is_struct;
    bool streamed;
    char *member;
} s_frame_t;

struct odoo_xmlrpc_parser {
    xmlParserCtxtPtr ctxt;
    xmlSAXHandler sax;
    odoo_xmlrpc_item_fn *each;
    void *arg;
    s_frame_t stack[ODOO_XMLRPC_MAX_DEPTH];
    int depth;
    int xml_depth;
    vd_buf_t text;
    bool collecting;
    s_scalar_t scalar;
    bool in_value, typed;
    json_t *done;
    json_t *root;
    bool fault, response;
    bool failed;
    vd_error_t err;
    size_t items;
};

static void
s_fail (odoo_xmlrpc_parser_t *self, const char *fmt, const char *what)
{
    if (self->failed)
        return;
    self->failed = true;
    vd_error_set (&self->err, VD_ERR_PERMANENT, "malformed XML-RPC answer: ");
    size_t n = strlen (self->err.msg);
    snprintf (self->err.msg + n, sizeof self->err.msg - n, fmt, what ? what : "");
    xmlStopParser (self->ctxt);
}

static const struct {
    const char *tag;
    s_scalar_t kind;
} s_scalars[] = {{"string", K_STRING},
                 {"int", K_INT},
                 {"i4", K_INT},
                 {"i8", K_INT},
                 {"boolean", K_BOOLEAN},
                 {"double", K_DOUBLE},
                 {"dateTime.iso8601", K_DATETIME},
                 {"base64", K_BASE64},
                 {"nil", K_NIL}};

static s_scalar_t
s_scalar_kind (const char *tag)
{
    for (size_t i = 0; i < sizeof s_scalars / sizeof s_scalars[0]; i++)
        if (strcmp (s_scalars[i].tag, tag) == 0)
            return s_scalars[i].kind;
    return K_NONE;
}

static s_frame_t *
s_top (odoo_xmlrpc_parser_t *self)
{
    return self->depth ? &self->stack[self->depth - 1] : NULL;
}

/*  The scalar just closed, from the collected text. */
static json_t *
s_scalar_value (odoo_xmlrpc_parser_t *self)
{
    const char *t = vd_buf_str (&self->text);
    while (isspace ((unsigned char)*t) && self->scalar != K_STRING)
        t++;
    int64_t i;
    char trimmed[64];
    switch (self->scalar) {
    case K_INT:
    case K_BOOLEAN:
        snprintf (trimmed, sizeof trimmed, "%s", t);
        trimmed[strcspn (trimmed, " \t\r\n")] = '\0';
        if (strlen (t) >= sizeof trimmed ||
            vd_parse_int (trimmed, self->scalar == K_BOOLEAN ? 0 : INT64_MIN,
                          self->scalar == K_BOOLEAN ? 1 : INT64_MAX, &i) < 0) {
            s_fail (self, "bad %s value", self->scalar == K_INT ? "integer" : "boolean");
            return NULL;
        }
        return self->scalar == K_INT ? json_integer (i) : json_boolean (i);
    case K_DOUBLE: {
        char *end = NULL;
        errno = 0;
        double d = strtod (t, &end);
        while (end && isspace ((unsigned char)*end))
            end++;
        if (end == t || !end || *end || errno == ERANGE || d != d) {
            s_fail (self, "bad double value", NULL);
            return NULL;
        }
        return json_real (d);
    }
    case K_NIL:
        return json_null ();
    default:
        return json_stringn (vd_buf_str (&self->text), self->text.len);
    }
}

/*  A complete value: into its container, to the item callback, or root. */
static void
s_attach (odoo_xmlrpc_parser_t *self, json_t *v)
{
    s_frame_t *f = s_top (self);
    if (!v) {
        s_fail (self, "value is not valid UTF-8", NULL);
        return;
    }
    if (!f) {
        if (self->root) {
            json_decref (v);
            s_fail (self, "more than one value", NULL);
            return;
        }
        self->root = v;
    } else if (f->is_struct) {
        if (!f->member) {
            json_decref (v);
            s_fail (self, "struct member without a name", NULL);
            return;
        }
        json_object_set_new (f->container, f->member, v);
        free (f->member);
        f->member = NULL;
    } else if (f->streamed) {
        self->items++;
        if (self->each (v, self->arg) < 0)
            s_fail (self, "stopped by its reader", NULL);
    } else
        json_array_append_new (f->container, v);
}

static void
s_start_container (odoo_xmlrpc_parser_t *self, bool is_struct)
{
    if (!self->in_value || self->typed || self->depth == ODOO_XMLRPC_MAX_DEPTH) {
        s_fail (self, self->depth == ODOO_XMLRPC_MAX_DEPTH ? "nested too deep" : "misplaced %s",
                is_struct ? "struct" : "array");
        return;
    }
    self->typed = true;
    self->collecting = false;
    self->in_value = false;
    s_frame_t *f = &self->stack[self->depth++];
    f->is_struct = is_struct;
    f->member = NULL;
    f->streamed = !is_struct && self->depth == 1 && self->each && !self->fault;
    f->container = is_struct ? json_object () : json_array ();
}

static void
s_start (void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nns,
         const xmlChar **ns, int nattr, int ndefaulted, const xmlChar **attrs)
{
    (void)prefix, (void)uri, (void)nns, (void)ns, (void)nattr, (void)ndefaulted, (void)attrs;
    odoo_xmlrpc_parser_t *self = ctx;
    const char *tag = (const char *)local;
    s_frame_t *f = s_top (self);
    s_scalar_t kind;
    if (self->failed)
        return;
    if (self->xml_depth++ == 0) {
        if (strcmp (tag, "methodResponse") != 0)
            s_fail (self, "root element <%s> is not methodResponse", tag);
        self->response = true;
    } else if (strcmp (tag, "params") == 0 || strcmp (tag, "param") == 0)
        ;
    else if (strcmp (tag, "fault") == 0)
        self->fault = true;
    else if (strcmp (tag, "value") == 0) {
        if (self->in_value)
            s_fail (self, "value inside a value", NULL);
        self->in_value = true;
        self->typed = false;
        self->collecting = true;
        vd_buf_reset (&self->text);
    } else if ((kind = s_scalar_kind (tag)) != K_NONE) {
        if (!self->in_value || self->typed)
            s_fail (self, "misplaced <%s>", tag);
        self->typed = true;
        self->scalar = kind;
        self->collecting = true;
        vd_buf_reset (&self->text);
    } else if (strcmp (tag, "struct") == 0 || strcmp (tag, "array") == 0)
        s_start_container (self, tag[0] == 's');
    else if (strcmp (tag, "data") == 0) {
        if (!f || f->is_struct)
            s_fail (self, "misplaced <data>", NULL);
    } else if (strcmp (tag, "member") == 0 || strcmp (tag, "name") == 0) {
        if (!f || !f->is_struct || self->in_value)
            s_fail (self, "misplaced <%s>", tag);
        self->collecting = tag[0] == 'n';
        vd_buf_reset (&self->text);
    } else
        s_fail (self, "unknown element <%s>", tag);
}

/*  The value just closed. One not attached yet (a document that closes
    two values in one <value>, which libxml2 may report while it recovers
    from a bad tag) is dropped: the document is refused anyway. */
static void
s_set_done (odoo_xmlrpc_parser_t *self, json_t *value)
{
    json_decref (self->done);
    self->done = value;
}

static void
s_end (void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
    (void)prefix, (void)uri;
    odoo_xmlrpc_parser_t *self = ctx;
    const char *tag = (const char *)local;
    self->xml_depth--;
    if (self->failed)
        return;
    s_frame_t *f = s_top (self);
    if (s_scalar_kind (tag) != K_NONE) {
        self->collecting = false;
        s_set_done (self, s_scalar_value (self));
    } else if (strcmp (tag, "name") == 0 && f) {
        self->collecting = false;
        free (f->member);
        f->member = strndup (vd_buf_str (&self->text), self->text.len);
    } else if ((strcmp (tag, "struct") == 0 || strcmp (tag, "array") == 0) && f) {
        free (f->member);
        s_set_done (self, f->container);
        self->depth--;
        self->in_value = true;
        self->typed = true; /* its last item may have been an untyped <value>text</value> */
    } else if (strcmp (tag, "value") == 0) {
        json_t *v =
            self->typed ? self->done : json_stringn (vd_buf_str (&self->text), self->text.len);
        self->done = NULL;
        self->in_value = false;
        self->collecting = false;
        if (!self->failed)
            s_attach (self, v);
        else
            json_decref (v);
    }
}

static void
s_chars (void *ctx, const xmlChar *ch, int len)
{
    odoo_xmlrpc_parser_t *self = ctx;
    if (self->failed || !self->collecting)
        return;
    if (vd_buf_add (&self->text, ch, (size_t)len) < 0)
        s_fail (self, "a value is larger than 16 MiB", NULL);
}

static void
s_dtd (void *ctx, const xmlChar *name, const xmlChar *external, const xmlChar *system)
{
    (void)name, (void)external, (void)system;
    s_fail (ctx, "a DTD is not allowed", NULL);
}

static void
s_quiet (void *ctx, const xmlError *error)
{
    (void)ctx, (void)error; /* read from the context after the parse */
}

odoo_xmlrpc_parser_t *
odoo_xmlrpc_parser_new (odoo_xmlrpc_item_fn *each, void *arg)
{
    odoo_xmlrpc_parser_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->each = each;
    self->arg = arg;
    vd_buf_init (&self->text, ODOO_XMLRPC_MAX_TEXT);
    self->sax.initialized = XML_SAX2_MAGIC;
    self->sax.startElementNs = s_start;
    self->sax.endElementNs = s_end;
    self->sax.characters = s_chars;
    self->sax.cdataBlock = s_chars;
    self->sax.internalSubset = s_dtd;
    self->sax.serror = (xmlStructuredErrorFunc)s_quiet;
    self->ctxt = xmlCreatePushParserCtxt (&self->sax, self, NULL, 0, NULL);
    if (!self->ctxt) {
        odoo_xmlrpc_parser_destroy (&self);
        return NULL;
    }
    xmlCtxtUseOptions (self->ctxt, XML_PARSE_NONET);
    return self;
}

void
odoo_xmlrpc_parser_destroy (odoo_xmlrpc_parser_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odoo_xmlrpc_parser_t *self = *self_p;
    for (int i = 0; i < self->depth; i++) {
        json_decref (self->stack[i].container);
        free (self->stack[i].member);
    }
    json_decref (self->done);
    json_decref (self->root);
    if (self->ctxt)
        xmlFreeParserCtxt (self->ctxt);
    vd_buf_free (&self->text);
    free (self);
    *self_p = NULL;
}

static int
s_xml_error (odoo_xmlrpc_parser_t *self, vd_err_kind_t kind, const char *what, vd_error_t *err)
{
    const xmlError *e = xmlCtxtGetLastError (self->ctxt);
    vd_error_set (err, kind, "%s", what);
    if (e && e->message)
        vd_error_detail (err, "libxml2: %.*s (line %d)", (int)strcspn (e->message, "\n"),
                         e->message, e->line);
    return -1;
}

int
odoo_xmlrpc_parser_feed (odoo_xmlrpc_parser_t *self, const char *data, size_t len, vd_error_t *err)
{
    while (len > 0 && !self->failed) {
        int chunk = len > 65536 ? 65536 : (int)len;
        int rc = xmlParseChunk (self->ctxt, data, chunk, 0);
        if (self->failed)
            break;
        if (rc != 0)
            return s_xml_error (self, VD_ERR_PERMANENT, "malformed XML-RPC answer", err);
        data += chunk;
        len -= (size_t)chunk;
    }
    if (self->failed) {
        *err = self->err;
        return -1;
    }
    return 0;
}

int
odoo_xmlrpc_parser_finish (odoo_xmlrpc_parser_t *self, json_t **result, int *code, char *fault,
                           size_t fault_size, vd_error_t *err)
{
    *result = NULL;
    if (self->failed) {
        *err = self->err;
        return -1;
    }
    int rc = xmlParseChunk (self->ctxt, NULL, 0, 1);
    /* whatever fails at the end of a body that fed well: it stopped early */
    if (self->failed)
        rc = -1;
    /* every byte fed was fine, but the document did not end: the body
       stopped early (a dropped connection), worth a retry */
    if (rc != 0 || self->xml_depth != 0)
        return s_xml_error (self, VD_ERR_TRANSIENT,
                            "truncated XML-RPC answer (the body stopped early)", err);
    if (!self->root)
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed XML-RPC answer: no value");
    if (self->fault) {
        json_t *c = json_object_get (self->root, "faultCode");
        const char *s = json_string_value (json_object_get (self->root, "faultString"));
        if (!json_is_object (self->root) || !s)
            return vd_error_set (err, VD_ERR_PERMANENT, "malformed XML-RPC fault");
        *code = json_is_integer (c) ? (int)json_integer_value (c) : 1;
        snprintf (fault, fault_size, "%s", s);
        return 1;
    }
    *result = self->root;
    self->root = NULL;
    return 0;
}

size_t
odoo_xmlrpc_parser_items (const odoo_xmlrpc_parser_t *self)
{
    return self->items;
}

/* ---- self test ---------------------------------------------------------- */

static int
s_test_item (json_t *item, void *arg)
{
    json_array_append_new (arg, item);
    return json_array_size (arg) > 1000 ? -1 : 0;
}

/*  Parses text fed in chunks of step bytes. Returns the finish code. */
static int
s_test_parse (const char *text, size_t len, size_t step, json_t *items, json_t **result, int *code,
              char *fault, vd_error_t *err)
{
    odoo_xmlrpc_parser_t *p = odoo_xmlrpc_parser_new (items ? s_test_item : NULL, items);
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < len; off += step)
        rc = odoo_xmlrpc_parser_feed (p, text + off, len - off < step ? len - off : step, err);
    if (rc == 0)
        rc = odoo_xmlrpc_parser_finish (p, result, code, fault, 256, err);
    odoo_xmlrpc_parser_destroy (&p);
    return rc;
}

static const char s_test_page[] =
    "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n"
    "<value><struct>\n<member>\n<name>id</name>\n<value><int>7</int></value>\n</member>\n"
    "<member>\n<name>name</name>\n<value><string>Domaine Zind &amp; Fils</string></value>\n"
    "</member>\n<member>\n<name>write_date</name>\n<value><string>2025-11-25 10:00:00</string>"
    "</value>\n</member>\n<member>\n<name>email</name>\n<value><boolean>0</boolean></value>\n"
    "</member>\n<member>\n<name>country_id</name>\n<value><array><data>\n<value><int>75</int>"
    "</value>\n<value><string>France</string></value>\n</data></array></value>\n</member>\n"
    "<member>\n<name>image_128</name>\n<value><string>iVBORw0KGgo=</string></value>\n</member>\n"
    "<member>\n<name>list_price</name>\n<value><double>24.5</double></value>\n</member>\n"
    "</struct></value>\n"
    "<value><struct><member><name>id</name><value><i4>8</i4></value></member>"
    "<member><name>ref</name><value>C0123</value></member>"
    "<member><name>x</name><value><nil/></value></member>"
    "<member><name>d</name><value><dateTime.iso8601>20251125T10:00:00</dateTime.iso8601></value>"
    "</member><member><name>e</name><value><string></string></value></member>"
    "</struct></value>\n"
    "<value><struct><member><name>id</name><value><i8>9000000000</i8></value></member>"
    "<member><name>c</name><value><string><![CDATA[a<b]]></string></value></member>"
    "</struct></value>\n"
    "</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

static int
s_test_page_items (bool verbose)
{
    int failures = 0;
    size_t steps[] = {1, 7, 64, sizeof s_test_page};
    for (size_t s = 0; s < 4; s++) {
        json_t *items = json_array (), *result = NULL;
        vd_error_t err;
        int code;
        char fault[256];
        int rc = s_test_parse (s_test_page, sizeof s_test_page - 1, steps[s], items, &result, &code,
                               fault, &err);
        json_t *a = json_array_get (items, 0), *b = json_array_get (items, 1),
               *c = json_array_get (items, 2);
        bool ok =
            rc == 0 && json_array_size (items) == 3 && json_array_size (result) == 0 &&
            json_integer_value (json_object_get (a, "id")) == 7 &&
            strcmp (json_string_value (json_object_get (a, "name")), "Domaine Zind & Fils") == 0 &&
            json_is_false (json_object_get (a, "email")) &&
            strcmp (json_string_value (json_array_get (json_object_get (a, "country_id"), 1)),
                    "France") == 0 &&
            json_real_value (json_object_get (a, "list_price")) == 24.5 &&
            strcmp (json_string_value (json_object_get (b, "ref")), "C0123") == 0 &&
            json_is_null (json_object_get (b, "x")) &&
            strcmp (json_string_value (json_object_get (b, "d")), "20251125T10:00:00") == 0 &&
            strcmp (json_string_value (json_object_get (b, "e")), "") == 0 &&
            json_integer_value (json_object_get (c, "id")) == 9000000000LL &&
            strcmp (json_string_value (json_object_get (c, "c")), "a<b") == 0;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr, "  xmlrpc page, chunks of %zu: %s %s\n", steps[s],
                     ok ? "ok" : "FAILED", rc ? err.msg : "");
        failures += !ok;
        json_decref (items);
        json_decref (result);
    }
    return failures;
}

int
odoo_xmlrpc_test (bool verbose)
{
    int failures = s_test_page_items (verbose);
    vd_error_t err;
    json_t *result = NULL;
    int code = 0;
    char fault[256];
    /* a container whose last item is an untyped value is kept whole
       (found by fuzz_xmlrpc: it was dropped, and leaked) */
    const char *untyped = "<methodResponse><params><param><value><array><data><value><int>1"
                          "</int></value><value>abc</value></data></array></value></param>"
                          "</params></methodResponse>";
    if (s_test_parse (untyped, strlen (untyped), 9, NULL, &result, &code, fault, &err) != 0 ||
        json_array_size (result) != 2 ||
        strcmp (json_string_value (json_array_get (result, 1)), "abc") != 0)
        failures++;
    json_decref (result);
    result = NULL;
    /* the whole value when nobody streams: version() */
    const char *version = "<methodResponse><params><param><value><struct><member><name>"
                          "server_version</name><value><string>saas~18.2</string></value>"
                          "</member></struct></value></param></params></methodResponse>";
    if (s_test_parse (version, strlen (version), 5, NULL, &result, &code, fault, &err) != 0 ||
        strcmp (json_string_value (json_object_get (result, "server_version")), "saas~18.2") != 0)
        failures++;
    json_decref (result);
    /* a fault */
    const char *f3 = "<?xml version='1.0'?><methodResponse><fault><value><struct><member><name>"
                     "faultCode</name><value><int>3</int></value></member><member><name>"
                     "faultString</name><value><string>Access Denied</string></value></member>"
                     "</struct></value></fault></methodResponse>";
    json_t *items = json_array ();
    if (s_test_parse (f3, strlen (f3), 3, items, &result, &code, fault, &err) != 1 || code != 3 ||
        strcmp (fault, "Access Denied") != 0 || json_array_size (items))
        failures++;
    /* truncated anywhere: transient (retry), never a crash */
    for (size_t cut = 1; cut < sizeof s_test_page - 2; cut += 13) {
        json_array_clear (items);
        int rc = s_test_parse (s_test_page, cut, 11, items, &result, &code, fault, &err);
        if (rc != -1 || err.kind != VD_ERR_TRANSIENT) {
            fprintf (stderr, "  xmlrpc cut at %zu: rc %d kind %d %s\n", cut, rc, err.kind, err.msg);
            failures++;
            break;
        }
    }
    /* malformed: permanent */
    const char *bad[] = {
        "garbage",
        "<html><body>502 Bad Gateway</body></html>",
        "<methodResponse><params><param><value><int>12x</int></value></param></params>"
        "</methodResponse>",
        "<methodResponse><params><param><value><int>99999999999999999999</int></value></param>"
        "</params></methodResponse>",
        "<methodResponse><params><param><value><boolean>2</boolean></value></param></params>"
        "</methodResponse>",
        "<methodResponse><params><param><value><double>abc</double></value></param></params>"
        "</methodResponse>",
        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodResponse/>",
        "<methodResponse><params><param><value><struct><value><int>1</int></value></struct>"
        "</value></param></params></methodResponse>",
        "<methodResponse><params><param><value><blob>1</blob></value></param></params>"
        "</methodResponse>",
        "<methodResponse><params><param><value><int>1</int></value><value><int>2</int></value>"
        "</param></params></methodResponse>",
        "<methodResponse><fault><value><int>1</int></value></fault></methodResponse>",
        "<methodResponse><params></params></methodResponse>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_array_clear (items);
        int rc = s_test_parse (bad[i], strlen (bad[i]), 4, items, &result, &code, fault, &err);
        bool ok = rc == -1 && err.kind == VD_ERR_PERMANENT;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr, "  xmlrpc bad %zu: %s (%s)\n", i, ok ? "ok" : "FAILED",
                     err.msg);
        failures += !ok;
        if (rc == 0)
            json_decref (result);
    }
    /* too deep, too large */
    vd_buf_t big;
    vd_buf_init (&big, 40 * 1024 * 1024);
    vd_buf_addstr (&big, "<methodResponse><params><param>");
    for (int i = 0; i < 100; i++)
        vd_buf_addstr (&big, "<value><array><data>");
    failures += s_test_parse (big.data, big.len, 4096, NULL, &result, &code, fault, &err) != -1 ||
                err.kind != VD_ERR_PERMANENT;
    vd_buf_reset (&big);
    vd_buf_addstr (&big, "<methodResponse><params><param><value><string>");
    for (int i = 0; i < 17 * 1024; i++)
        vd_buf_addstr (&big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    failures += s_test_parse (big.data, big.len, 65536, NULL, &result, &code, fault, &err) != -1 ||
                !strstr (err.msg, "16 MiB");
    vd_buf_free (&big);
    /* the item callback may stop the parse */
    json_array_clear (items);
    vd_buf_init (&big, 4 * 1024 * 1024);
    vd_buf_addstr (&big, "<methodResponse><params><param><value><array><data>");
    for (int i = 0; i < 2000; i++)
        vd_buf_addstr (&big, "<value><int>1</int></value>");
    vd_buf_addstr (&big, "</data></array></value></param></params></methodResponse>");
    failures += s_test_parse (big.data, big.len, 512, items, &result, &code, fault, &err) != -1;
    vd_buf_free (&big);
    json_decref (items);
    /* the writer: escaping, i8, False for null, nested */
    vd_buf_t out;
    vd_buf_init (&out, 1024 * 1024);
    json_t *params =
        json_pack ("[s, i, s, {s:[[s, s, b]], s:I, s:n, s:f}]", "db", 2, "k<&>", "domain", "active",
                   "=", 0, "limit", (json_int_t)5000000000LL, "nothing", "price", 1.5);
    failures += odoo_xmlrpc_write_call (&out, "execute_kw", params, &err) != 0 ||
                !strstr (out.data, "<methodName>execute_kw</methodName>") ||
                !strstr (out.data, "<string>k&lt;&amp;&gt;</string>") ||
                !strstr (out.data, "<i8>5000000000</i8>") || !strstr (out.data, "<int>2</int>") ||
                !strstr (out.data, "<name>nothing</name><value><boolean>0</boolean>") ||
                !strstr (out.data, "<double>1.5</double>");
    json_decref (params);
    vd_buf_free (&out);
    vd_buf_init (&out, 64); /* ceiling: a clear error, not a crash */
    params = json_pack ("[s]", "a long string that will not fit in sixty-four bytes of buffer");
    failures += odoo_xmlrpc_write_call (&out, "m", params, &err) == 0;
    json_decref (params);
    vd_buf_free (&out);
    if (verbose)
        printf ("  odoo_xmlrpc: %d failures\n", failures);
    return failures ? -1 : 0;
}
