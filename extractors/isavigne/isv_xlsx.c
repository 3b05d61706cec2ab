/*  isv_xlsx - rows of the first worksheet of a .xlsx workbook (see
    isv_xlsx.h).

    Parts read: xl/workbook.xml (first <sheet>), xl/_rels/workbook.xml.rels
    (its target, the shared strings and styles parts), the shared strings,
    the styles (which cell formats are dates) and the worksheet, streamed
    one row per isv_xlsx_next call.
*/
#include "vendange.h"
#include "isv_xlsx.h"
#include "isv_fields.h"
#include <ctype.h>
#include <math.h>
#include <zip.h>
#include <libxml/xmlreader.h>

#define S_REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define S_REL_NS_STRICT "http://purl.oclc.org/ooxml/officeDocument/relationships"
#define S_PART_NAME 512           /* longest part name we accept          */
#define S_MAX_CUSTOM_FORMATS 1024 /* <numFmt> entries that are dates      */

struct isv_xlsx {
    zip_t *zip;
    char part[S_PART_NAME]; /* the part being read, for messages    */
    char xml_error[256];    /* first libxml2 error in that part     */
    //  Shared strings: each NUL-terminated in one buffer
    vd_buf_t strings;
    uint32_t *string_starts;
    size_t nstrings, strings_cap;
    //  Styles: is cellXfs[i] a date or time format
    unsigned char *style_kinds; /* S_NUMBER, S_DATE or S_PERCENT per cellXfs */
    size_t nstyles, styles_cap;
    bool date1904; /* serial 0 is 1904-01-01 (old Mac files) */
    //  The worksheet
    xmlTextReaderPtr sheet;
    bool done;
    bool in_row, in_cell, in_v, in_is, in_t, in_rph;
    long line, last_line;
    long cell_col, cell_style;
    char cell_type[16];
    vd_buf_t cell; /* text of the cell being read          */
    const char *row_error;
    char long_error[64];
    char fields_error[64];
    isv_fields_t fields;
};

//  A node handler for s_walk: 0 to go on, 1 to stop, -1 on error (err set)
typedef int (s_node_fn) (isv_xlsx_t *self, xmlTextReaderPtr reader, int type, const char *name,
                         void *arg, vd_error_t *err);

// --------------------------------------------------------------------------
//  libzip and libxml2 plumbing

static int
s_zip_read (void *context, char *buffer, int len)
{
    zip_int64_t n = zip_fread ((zip_file_t *)context, buffer, (zip_uint64_t)len);
    return n < 0 ? -1 : (int)n;
}

static int
s_zip_close (void *context)
{
    return zip_fclose ((zip_file_t *)context) == 0 ? 0 : -1;
}

#if LIBXML_VERSION >= 21200
static void
s_xml_error (void *arg, const xmlError *error)
#else
static void
s_xml_error (void *arg, xmlErrorPtr error)
#endif
{
    isv_xlsx_t *self = arg;
    if (self->xml_error[0] || !error || !error->message)
        return;
    snprintf (self->xml_error, sizeof self->xml_error, "%s", error->message);
    size_t len = strlen (self->xml_error);
    if (len > 0 && self->xml_error[len - 1] == '\n')
        self->xml_error[len - 1] = '\0';
}

//  A streaming reader over a part of the archive, NULL when the part is
//  missing or cannot be opened (libxml2 closes the zip file on failure)
static xmlTextReaderPtr
s_open_part (isv_xlsx_t *self, const char *name)
{
    snprintf (self->part, sizeof self->part, "%s", name);
    self->xml_error[0] = '\0';
    zip_file_t *file = zip_fopen (self->zip, name, 0);
    if (!file)
        return NULL;
    xmlTextReaderPtr reader =
        xmlReaderForIO (s_zip_read, s_zip_close, file, name, NULL, XML_PARSE_NONET);
    if (reader)
        xmlTextReaderSetStructuredErrorHandler (reader, s_xml_error, self);
    return reader;
}

static bool
s_has_part (isv_xlsx_t *self, const char *name)
{
    return zip_name_locate (self->zip, name, 0) >= 0;
}

static int
s_xml_failed (isv_xlsx_t *self, vd_error_t *err)
{
    vd_error_set (err, VD_ERR_PERMANENT, "xlsx part is not valid xml");
    return vd_error_detail (err, "%s: %s", self->part,
                            self->xml_error[0] ? self->xml_error : "read error");
}

static const char *
s_name (xmlTextReaderPtr reader)
{
    const xmlChar *name = xmlTextReaderConstLocalName (reader);
    return name ? (const char *)name : "";
}

static bool
s_is_text (int type)
{
    return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
           type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

static bool
s_is_empty (xmlTextReaderPtr reader)
{
    return xmlTextReaderIsEmptyElement (reader) == 1;
}

//  Copies an attribute into out ("" and false when absent)
static bool
s_attr (xmlTextReaderPtr reader, const char *name, const char *ns, char *out, size_t size)
{
    xmlChar *value = ns ? xmlTextReaderGetAttributeNs (reader, BAD_CAST name, BAD_CAST ns)
                        : xmlTextReaderGetAttribute (reader, BAD_CAST name);
    out[0] = '\0';
    if (!value)
        return false;
    snprintf (out, size, "%s", (const char *)value);
    xmlFree (value);
    return true;
}

//  A non-negative integer attribute, or fallback
static long
s_attr_long (xmlTextReaderPtr reader, const char *name, long fallback)
{
    char text[32];
    if (!s_attr (reader, name, NULL, text, sizeof text) || !isdigit ((unsigned char)text[0]))
        return fallback;
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    return errno || *end ? fallback : value;
}

//  Calls fn on every node of a part; a missing part is not an error
static int
s_walk (isv_xlsx_t *self, const char *name, s_node_fn *fn, void *arg, vd_error_t *err)
{
    if (!s_has_part (self, name))
        return 0;
    xmlTextReaderPtr reader = s_open_part (self, name);
    if (!reader) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not read xlsx part");
        return vd_error_detail (err, "%s: %s", name, zip_strerror (self->zip));
    }
    int read = 0, rc = 0;
    while (rc == 0 && (read = xmlTextReaderRead (reader)) == 1)
        rc = fn (self, reader, xmlTextReaderNodeType (reader), s_name (reader), arg, err);
    if (rc == 0 && read < 0)
        s_xml_failed (self, err);
    xmlFreeTextReader (reader);
    return rc < 0 || (rc == 0 && read < 0) ? -1 : 0;
}

static int
s_grow (void **array, size_t *cap, size_t need, size_t size, size_t max)
{
    if (need <= *cap)
        return 0;
    if (need > max)
        return -1;
    size_t cap_new = *cap ? *cap * 2 : 256;
    if (cap_new > max)
        cap_new = max;
    void *grown = realloc (*array, cap_new * size);
    if (!grown)
        return -1;
    *array = grown;
    *cap = cap_new;
    return 0;
}

// --------------------------------------------------------------------------
//  Which part is the first worksheet

typedef struct {
    char rid[128]; /* r:id of the first <sheet>            */
    char sheet[S_PART_NAME];
    char strings[S_PART_NAME];
    char styles[S_PART_NAME];
} s_parts_t;

static int
s_workbook_node (isv_xlsx_t *self, xmlTextReaderPtr reader, int type, const char *name, void *arg,
                 vd_error_t *err)
{
    (void)err;
    s_parts_t *parts = arg;
    if (type != XML_READER_TYPE_ELEMENT)
        return 0;
    if (strcmp (name, "workbookPr") == 0) {
        char value[8];
        s_attr (reader, "date1904", NULL, value, sizeof value);
        self->date1904 = strcmp (value, "1") == 0 || strcmp (value, "true") == 0;
    }
    if (strcmp (name, "sheet") != 0)
        return 0;
    if (!s_attr (reader, "id", S_REL_NS, parts->rid, sizeof parts->rid))
        s_attr (reader, "id", S_REL_NS_STRICT, parts->rid, sizeof parts->rid);
    return 1;
}

//  A relationship target is relative to xl/, or absolute from the root
static void
s_part_name (const char *target, char *out, size_t size)
{
    if (target[0] == '/')
        snprintf (out, size, "%s", target + 1);
    else
        snprintf (out, size, "xl/%s", target);
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t len = strlen (s), n = strlen (suffix);
    return len >= n && strcmp (s + len - n, suffix) == 0;
}

static int
s_rels_node (isv_xlsx_t *self, xmlTextReaderPtr reader, int type, const char *name, void *arg,
             vd_error_t *err)
{
    (void)self;
    (void)err;
    s_parts_t *parts = arg;
    if (type != XML_READER_TYPE_ELEMENT || strcmp (name, "Relationship") != 0)
        return 0;
    char id[128], target[S_PART_NAME - 4], rel_type[256];
    s_attr (reader, "Id", NULL, id, sizeof id);
    s_attr (reader, "Type", NULL, rel_type, sizeof rel_type);
    if (!s_attr (reader, "Target", NULL, target, sizeof target))
        return 0;
    if (parts->rid[0] && strcmp (id, parts->rid) == 0)
        s_part_name (target, parts->sheet, sizeof parts->sheet);
    else if (s_ends_with (rel_type, "/sharedStrings"))
        s_part_name (target, parts->strings, sizeof parts->strings);
    else if (s_ends_with (rel_type, "/styles"))
        s_part_name (target, parts->styles, sizeof parts->styles);
    return 0;
}

static int
s_find_parts (isv_xlsx_t *self, s_parts_t *parts, vd_error_t *err)
{
    memset (parts, 0, sizeof *parts);
    if (s_walk (self, "xl/workbook.xml", s_workbook_node, parts, err) < 0 ||
        s_walk (self, "xl/_rels/workbook.xml.rels", s_rels_node, parts, err) < 0)
        return -1;
    if (!parts->sheet[0] || !s_has_part (self, parts->sheet))
        snprintf (parts->sheet, sizeof parts->sheet, "xl/worksheets/sheet1.xml");
    if (!s_has_part (self, parts->sheet)) {
        vd_error_set (err, VD_ERR_PERMANENT, "no worksheet in xlsx file");
        return -1;
    }
    if (!parts->strings[0])
        snprintf (parts->strings, sizeof parts->strings, "xl/sharedStrings.xml");
    if (!parts->styles[0])
        snprintf (parts->styles, sizeof parts->styles, "xl/styles.xml");
    return 0;
}

// --------------------------------------------------------------------------
//  Shared strings

static int
s_hex4 (const char *s, unsigned *out)
{
    for (int i = 0; i < 4; i++)
        if (!isxdigit ((unsigned char)s[i]))
            return -1;
    char hex[5] = {s[0], s[1], s[2], s[3], '\0'};
    *out = (unsigned)strtoul (hex, NULL, 16);
    return 0;
}

//  Decodes OOXML's "_xHHHH_" escapes (Excel writes "_x000D_" for a CR) in
//  place: the UTF-8 form is never longer. Returns the new length.
static size_t
s_unescape (char *s, size_t len)
{
    size_t in = 0, out = 0;
    while (in < len) {
        unsigned cp;
        if (s[in] == '_' && len - in >= 7 && s[in + 1] == 'x' && s[in + 6] == '_' &&
            s_hex4 (s + in + 2, &cp) == 0 && cp != 0 && (cp < 0xD800 || cp > 0xDFFF)) {
            if (cp < 0x80)
                s[out++] = (char)cp;
            else if (cp < 0x800) {
                s[out++] = (char)(0xC0 | (cp >> 6));
                s[out++] = (char)(0x80 | (cp & 0x3F));
            } else {
                s[out++] = (char)(0xE0 | (cp >> 12));
                s[out++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                s[out++] = (char)(0x80 | (cp & 0x3F));
            }
            in += 7;
        } else
            s[out++] = s[in++];
    }
    return out;
}

//  Unescapes the buffer's content from start on
static void
s_unescape_tail (vd_buf_t *b, size_t start)
{
    if (!b->data || b->len <= start)
        return;
    b->len = start + s_unescape (b->data + start, b->len - start);
    b->data[b->len] = '\0';
}

typedef struct {
    size_t start;
    bool in_t, in_rph;
} s_strings_state_t;

static int
s_string_end (isv_xlsx_t *self, s_strings_state_t *state, vd_error_t *err)
{
    s_unescape_tail (&self->strings, state->start);
    if (vd_buf_addc (&self->strings, '\0') < 0 ||
        s_grow ((void **)&self->string_starts, &self->strings_cap, self->nstrings + 1,
                sizeof *self->string_starts, ISV_XLSX_MAX_STRINGS) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "xlsx shared strings too large");
    self->string_starts[self->nstrings++] = (uint32_t)state->start;
    state->in_t = state->in_rph = false;
    return 0;
}

static int
s_strings_node (isv_xlsx_t *self, xmlTextReaderPtr reader, int type, const char *name, void *arg,
                vd_error_t *err)
{
    s_strings_state_t *state = arg;
    if (type == XML_READER_TYPE_ELEMENT) {
        bool empty = s_is_empty (reader);
        if (strcmp (name, "si") == 0) {
            state->start = self->strings.len;
            if (empty)
                return s_string_end (self, state, err);
        } else if (strcmp (name, "rPh") == 0)
            state->in_rph = !empty; //  phonetic reading: not the text
        else if (strcmp (name, "t") == 0)
            state->in_t = !empty && !state->in_rph;
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
        if (strcmp (name, "si") == 0)
            return s_string_end (self, state, err);
        if (strcmp (name, "rPh") == 0)
            state->in_rph = false;
        else if (strcmp (name, "t") == 0)
            state->in_t = false;
    } else if (state->in_t && s_is_text (type)) {
        const char *value = (const char *)xmlTextReaderConstValue (reader);
        if (value && vd_buf_addstr (&self->strings, value) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "xlsx shared strings too large");
    }
    return 0;
}

// --------------------------------------------------------------------------
//  Styles: which cell formats show a date or a time

//  True when a number format code holds a day, month, year or hour token
//  outside quoted text, [brackets] and escaped or padding characters
enum { S_NUMBER, S_DATE, S_PERCENT };

/*  What a number format shows: a percentage when it has a '%' outside
    quotes, brackets and escapes, else a date or time when it has one of
    d m y h, else a number. */
static int
s_format_kind (const char *code)
{
    int kind = S_NUMBER;
    for (const char *p = code; *p; p++) {
        if (*p == '"' || *p == '[') {
            p = strchr (p + 1, *p == '"' ? '"' : ']');
            if (!p)
                return kind;
        } else if ((*p == '\\' || *p == '_' || *p == '*') && p[1])
            p++;
        else if (*p == '%')
            return S_PERCENT;
        else if (strchr ("dmyhDMYH", *p))
            kind = S_DATE;
    }
    return kind;
}

static int
s_builtin_kind (long id)
{
    if (id == 9 || id == 10)
        return S_PERCENT;
    return (id >= 14 && id <= 22) || (id >= 45 && id <= 47) ? S_DATE : S_NUMBER;
}

typedef struct {
    bool in_formats, in_cell_formats;
    size_t ncustom;
    long custom[S_MAX_CUSTOM_FORMATS]; /* numFmtId of custom date and percent formats */
    unsigned char custom_kind[S_MAX_CUSTOM_FORMATS];
} s_styles_state_t;

static int
s_add_style (isv_xlsx_t *self, s_styles_state_t *state, long id, vd_error_t *err)
{
    int kind = s_builtin_kind (id);
    for (size_t i = 0; i < state->ncustom; i++)
        if (state->custom[i] == id)
            kind = state->custom_kind[i];
    if (s_grow ((void **)&self->style_kinds, &self->styles_cap, self->nstyles + 1,
                sizeof *self->style_kinds, ISV_XLSX_MAX_STYLES) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "xlsx styles too large");
    self->style_kinds[self->nstyles++] = (unsigned char)kind;
    return 0;
}

static int
s_styles_node (isv_xlsx_t *self, xmlTextReaderPtr reader, int type, const char *name, void *arg,
               vd_error_t *err)
{
    s_styles_state_t *state = arg;
    bool start = type == XML_READER_TYPE_ELEMENT;
    if (!start && type != XML_READER_TYPE_END_ELEMENT)
        return 0;
    if (strcmp (name, "numFmts") == 0)
        state->in_formats = start && !s_is_empty (reader);
    else if (strcmp (name, "cellXfs") == 0)
        state->in_cell_formats = start && !s_is_empty (reader);
    else if (start && state->in_formats && strcmp (name, "numFmt") == 0) {
        char code[512];
        long id = s_attr_long (reader, "numFmtId", -1);
        s_attr (reader, "formatCode", NULL, code, sizeof code);
        int kind = s_format_kind (code);
        if (id < 0 || kind == S_NUMBER)
            return 0;
        if (state->ncustom == S_MAX_CUSTOM_FORMATS)
            return vd_error_set (err, VD_ERR_PERMANENT, "xlsx styles too large");
        state->custom_kind[state->ncustom] = (unsigned char)kind;
        state->custom[state->ncustom++] = id;
    } else if (start && state->in_cell_formats && strcmp (name, "xf") == 0)
        return s_add_style (self, state, s_attr_long (reader, "numFmtId", 0), err);
    return 0;
}

// --------------------------------------------------------------------------
//  Open and destroy

static int
s_open_archive (isv_xlsx_t *self, const char *path, vd_error_t *err)
{
    int code = 0;
    self->zip = zip_open (path, ZIP_RDONLY, &code);
    if (!self->zip) {
        zip_error_t error;
        zip_error_init_with_code (&error, code);
        vd_error_set (err, VD_ERR_PERMANENT,
                      code == ZIP_ER_OPEN || code == ZIP_ER_NOENT ? "could not open file"
                                                                  : "not a valid xlsx file");
        vd_error_detail (err, "libzip: %s", zip_error_strerror (&error));
        zip_error_fini (&error);
        return -1;
    }
    s_parts_t parts;
    if (s_find_parts (self, &parts, err) < 0)
        return -1;
    s_strings_state_t strings = {0};
    if (s_walk (self, parts.strings, s_strings_node, &strings, err) < 0)
        return -1;
    s_styles_state_t styles = {0};
    if (s_walk (self, parts.styles, s_styles_node, &styles, err) < 0)
        return -1;
    self->sheet = s_open_part (self, parts.sheet);
    if (!self->sheet) {
        vd_error_set (err, VD_ERR_PERMANENT, "could not read xlsx worksheet");
        return vd_error_detail (err, "%s: %s", parts.sheet, zip_strerror (self->zip));
    }
    return 0;
}

isv_xlsx_t *
isv_xlsx_open (const char *path, vd_error_t *err)
{
    xmlInitParser ();
    isv_xlsx_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    vd_buf_init (&self->strings, ISV_XLSX_MAX_STRINGS_BYTES);
    vd_buf_init (&self->cell, ISV_MAX_LINE);
    isv_fields_init (&self->fields, ISV_MAX_LINE + ISV_MAX_FIELDS);
    snprintf (self->long_error, sizeof self->long_error, "row longer than %d bytes", ISV_MAX_LINE);
    snprintf (self->fields_error, sizeof self->fields_error, "more than %d fields in row",
              ISV_MAX_FIELDS);
    if (s_open_archive (self, path, err) < 0)
        isv_xlsx_destroy (&self);
    return self;
}

void
isv_xlsx_destroy (isv_xlsx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    isv_xlsx_t *self = *self_p;
    if (self->sheet)
        xmlFreeTextReader (self->sheet);
    if (self->zip)
        zip_discard (self->zip); //  read-only: nothing to write back
    vd_buf_free (&self->strings);
    free (self->string_starts);
    free (self->style_kinds);
    vd_buf_free (&self->cell);
    isv_fields_free (&self->fields);
    free (self);
    *self_p = NULL;
}

// --------------------------------------------------------------------------
//  Cell values

//  "C7" -> 2; -1 when the reference has no column letters
static long
s_column_of (const char *ref)
{
    long col = 0;
    int letters = 0;
    for (; isalpha ((unsigned char)*ref); ref++) {
        if (++letters > 3)
            return -1;
        col = col * 26 + (toupper ((unsigned char)*ref) - 'A' + 1);
    }
    return letters ? col - 1 : -1;
}

//  An Excel serial number shown with a date format: "yyyy-mm-dd", with
//  " HH:MM:SS" when there is a time of day, "HH:MM:SS" alone below 1
static int
s_add_serial_date (isv_xlsx_t *self, double serial)
{
    double day = floor (serial);
    long secs = lround ((serial - day) * 86400.0);
    if (secs >= 86400) {
        day += 1;
        secs -= 86400;
    }
    char text[48];
    char *at = text;
    vd_date_t date;
    if (serial >= 0 && day < 1)
        text[0] = '\0';
    else if (vd_date_from_excel (self->date1904 ? day + 1462 : day, &date) == 0 &&
             vd_date_format_date (&date, text, sizeof text) == 0) {
        at = text + strlen (text);
        if (secs > 0)
            *at++ = ' ';
    } else
        return isv_fields_add_number (&self->fields, serial);
    if (secs > 0 || at == text)
        snprintf (at, sizeof text - (size_t)(at - text), "%02ld:%02ld:%02ld", secs / 3600,
                  secs / 60 % 60, secs % 60);
    return isv_fields_add (&self->fields, text, strlen (text));
}

//  An ISO 8601 date cell (t="d")
static int
s_add_iso_date (isv_xlsx_t *self, const char *text, size_t len)
{
    vd_date_t date;
    char out[48];
    if (vd_date_parse (text, len, &date) < 0 || vd_date_format_date (&date, out, sizeof out) < 0)
        return isv_fields_add (&self->fields, text, len);
    if (date.has_time && (date.hour || date.minute || date.second)) {
        size_t n = strlen (out);
        snprintf (out + n, sizeof out - n, " %02d:%02d:%02d", date.hour, date.minute, date.second);
    }
    return isv_fields_add (&self->fields, out, strlen (out));
}

static int
s_add_number (isv_xlsx_t *self, const char *text, size_t len)
{
    if (len == 0)
        return isv_fields_add (&self->fields, "", 0);
    char *end;
    errno = 0;
    double value = strtod (text, &end);
    if (errno || *end || !isfinite (value))
        return isv_fields_add (&self->fields, text, len);
    int kind = self->cell_style >= 0 && (size_t)self->cell_style < self->nstyles
                   ? self->style_kinds[self->cell_style]
                   : S_NUMBER;
    if (kind == S_DATE)
        return s_add_serial_date (self, value);
    if (kind != S_PERCENT)
        return isv_fields_add_number (&self->fields, value);
    /* a percent-formatted cell (0.638 shown 63.8 %) is a percentage: the
       text says so, as a CSV would ("63.8 %") */
    char shown[400];
    if (isv_fields_format_number (value * 100, shown, sizeof shown - 2) < 0)
        return isv_fields_add (&self->fields, "", 0);
    size_t n = strlen (shown);
    memcpy (shown + n, " %", 3);
    return isv_fields_add (&self->fields, shown, n + 2);
}

static int
s_add_shared_string (isv_xlsx_t *self, const char *text)
{
    char *end;
    errno = 0;
    unsigned long index = strtoul (text, &end, 10);
    if (errno || end == text || *end || index >= self->nstrings) {
        self->row_error = "bad shared string index";
        return 0;
    }
    const char *s = vd_buf_str (&self->strings) + self->string_starts[index];
    return isv_fields_add (&self->fields, s, strlen (s));
}

//  Adds the value of the cell just read as a field
static int
s_add_value (isv_xlsx_t *self)
{
    const char *type = self->cell_type;
    if (strcmp (type, "inlineStr") == 0 || strcmp (type, "str") == 0)
        s_unescape_tail (&self->cell, 0);
    const char *text = vd_buf_str (&self->cell);
    size_t len = self->cell.len;
    if (strcmp (type, "s") == 0)
        return s_add_shared_string (self, text);
    if (strcmp (type, "b") == 0 && len == 1 && (text[0] == '0' || text[0] == '1'))
        return text[0] == '1' ? isv_fields_add (&self->fields, "true", 4)
                              : isv_fields_add (&self->fields, "false", 5);
    if (strcmp (type, "d") == 0)
        return s_add_iso_date (self, text, len);
    if (strcmp (type, "n") == 0)
        return s_add_number (self, text, len);
    return isv_fields_add (&self->fields, text, len); //  strings, errors
}

// --------------------------------------------------------------------------
//  Rows

static void
s_cell_start (isv_xlsx_t *self, xmlTextReaderPtr reader)
{
    char ref[32];
    s_attr (reader, "r", NULL, ref, sizeof ref);
    long col = s_column_of (ref);
    self->cell_col = col >= 0 ? col : (long)self->fields.count;
    if (!s_attr (reader, "t", NULL, self->cell_type, sizeof self->cell_type))
        snprintf (self->cell_type, sizeof self->cell_type, "n");
    self->cell_style = s_attr_long (reader, "s", 0);
    vd_buf_reset (&self->cell);
    self->in_cell = true;
    self->in_v = self->in_is = self->in_t = self->in_rph = false;
}

static void
s_cell_end (isv_xlsx_t *self)
{
    if (!self->in_cell)
        return;
    self->in_cell = false;
    if (self->row_error)
        return;
    //  Cells come in column order; a stray one goes after the others
    size_t col =
        self->cell_col < (long)self->fields.count ? self->fields.count : (size_t)self->cell_col;
    if (col >= ISV_MAX_FIELDS) {
        self->row_error = self->fields_error;
        return;
    }
    while (self->fields.count < col)
        if (isv_fields_add (&self->fields, "", 0) < 0) {
            self->row_error = self->long_error;
            return;
        }
    if (s_add_value (self) < 0 && !self->row_error)
        self->row_error = self->long_error;
}

static void
s_row_start (isv_xlsx_t *self, xmlTextReaderPtr reader)
{
    self->line = s_attr_long (reader, "r", self->last_line + 1);
    isv_fields_reset (&self->fields);
    self->row_error = NULL;
    self->in_row = true;
    self->in_cell = false;
}

static int
s_row_end (isv_xlsx_t *self, isv_row_t *row)
{
    self->in_row = false;
    self->last_line = self->line;
    if (!self->row_error && self->fields.count == 0 && isv_fields_add (&self->fields, "", 0) < 0)
        self->row_error = self->long_error;
    //  Joined even for an error row: the raw text is what is left to show
    if (isv_fields_join_raw (&self->fields) < 0 && !self->row_error)
        self->row_error = self->long_error;
    if (self->row_error)
        isv_fields_error_row (&self->fields, self->line, self->row_error, row);
    else
        isv_fields_row (&self->fields, self->line, row);
    return 1;
}

static void
s_sheet_element (isv_xlsx_t *self, const char *name, bool start, bool empty)
{
    bool open = start && !empty;
    if (strcmp (name, "v") == 0)
        self->in_v = open;
    else if (strcmp (name, "is") == 0)
        self->in_is = open;
    else if (strcmp (name, "rPh") == 0)
        self->in_rph = open;
    else if (strcmp (name, "t") == 0)
        self->in_t = open && self->in_is && !self->in_rph;
    else if (strcmp (name, "sheetData") == 0 && !open)
        self->done = true;
}

//  One node of the worksheet: 1 when a row is complete, 0 to go on
static int
s_sheet_node (isv_xlsx_t *self, xmlTextReaderPtr reader, int type, const char *name, isv_row_t *row)
{
    if (type == XML_READER_TYPE_ELEMENT) {
        bool empty = s_is_empty (reader);
        if (strcmp (name, "row") == 0) {
            s_row_start (self, reader);
            return empty ? s_row_end (self, row) : 0;
        }
        if (strcmp (name, "c") == 0 && self->in_row) {
            s_cell_start (self, reader);
            if (empty)
                s_cell_end (self);
            return 0;
        }
        s_sheet_element (self, name, true, empty);
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
        if (strcmp (name, "row") == 0 && self->in_row)
            return s_row_end (self, row);
        if (strcmp (name, "c") == 0)
            s_cell_end (self);
        else
            s_sheet_element (self, name, false, false);
    } else if (self->in_cell && (self->in_v || self->in_t) && s_is_text (type)) {
        const char *value = (const char *)xmlTextReaderConstValue (reader);
        if (value && vd_buf_addstr (&self->cell, value) < 0 && !self->row_error)
            self->row_error = self->long_error;
    }
    return 0;
}

int
isv_xlsx_next (isv_xlsx_t *self, isv_row_t *row, vd_error_t *err)
{
    assert (self);
    while (!self->done) {
        int rc = xmlTextReaderRead (self->sheet);
        if (rc < 0) {
            s_xml_failed (self, err);
            err->line = self->line;
            return -1;
        }
        if (rc == 0)
            break;
        int type = xmlTextReaderNodeType (self->sheet);
        if (s_sheet_node (self, self->sheet, type, s_name (self->sheet), row) == 1)
            return 1;
    }
    self->done = true;
    return 0;
}
