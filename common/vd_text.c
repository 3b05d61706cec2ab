/*  vd_text - text normalisation rules (SPEC.md "Normalisation rules").

    Everything walks UTF-8 code points with s_decode, which validates as
    it goes (Unicode table 3-7: no overlongs, no surrogates, nothing past
    U+10FFFF) and reports an invalid sequence as its maximal subpart, so
    that each broken sequence becomes exactly one U+FFFD.

    Folding (accents removed, lower case) uses a hand table for U+00C0 ..
    U+017F, where most Western European text lives and where the letters
    without a decomposition are (oe, ae, ss, o with stroke, l with stroke,
    thorn...), and utf8proc's per-code-point decomposition (no malloc)
    for everything else. Pure ASCII never leaves the byte loops.
*/
#include "vendange.h"
#include "vd_utf8.h"
#include <utf8proc.h>

#define S_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8                */
#define S_EMAIL_MAX 254

//  Undoes whatever a failed call appended.
static void
s_truncate (vd_buf_t *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

//  --------------------------------------------------------------------------
//  White space

//  Unicode white space other than ASCII: NEL, NBSP, the Zs separators,
//  line and paragraph separators.
static bool
s_is_space (uint32_t cp)
{
    if (cp < 0x2000)
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680;
    return cp <= 0x200A || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

//  What vd_text_clean turns into a separator: white space, but also
//  control characters (C0, DEL, C1: a NUL must never reach the database)
//  and a stray byte order mark.
static bool
s_is_gap (uint32_t cp)
{
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFEFF || s_is_space (cp);
}

size_t
vd_text_space_len (const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    if (len == 0)
        return 0;
    if (s[0] < 0x80)
        return s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r');
    uint32_t cp;
    size_t n = vd_utf8_decode (s, len, &cp);
    return cp != VD_UTF8_INVALID && s_is_space (cp) ? n : 0;
}

void
vd_text_trim (const char *s, size_t len, size_t *begin, size_t *end)
{
    size_t b = 0, n;
    while (b < len && (n = vd_text_space_len (s + b, len - b)) > 0)
        b += n;
    while (len > b) {
        size_t lead = len - 1; //  start of the last character
        while (lead > b && len - lead < 4 && ((unsigned char)s[lead] & 0xC0) == 0x80)
            lead--;
        if (vd_text_space_len (s + lead, len - lead) != len - lead)
            break;
        len = lead;
    }
    *begin = b;
    *end = len;
}

//  Length of the gap character at s, or 0 when s starts a word.
static size_t
s_gap_len (const unsigned char *s, size_t len)
{
    if (s[0] < 0x80)
        return s[0] <= 0x20 || s[0] == 0x7F;
    uint32_t cp;
    size_t n = vd_utf8_decode (s, len, &cp);
    return cp != VD_UTF8_INVALID && s_is_gap (cp) ? n : 0;
}

//  Copies the word starting at s[*i] (up to the next gap), invalid
//  sequences replaced; advances *i.
static int
s_copy_word (const unsigned char *s, size_t len, size_t *i, vd_buf_t *out)
{
    size_t run = *i, j = *i;
    while (j < len) {
        unsigned char c = s[j];
        if (c > 0x20 && c < 0x7F) {
            j++;
            continue;
        }
        if (c < 0x80)
            break;
        uint32_t cp;
        size_t n = vd_utf8_decode (s + j, len - j, &cp);
        if (cp == VD_UTF8_INVALID) {
            if (vd_buf_add (out, s + run, j - run) || vd_buf_add (out, S_REPLACEMENT, 3))
                return -1;
            run = j + n;
        } else if (s_is_gap (cp))
            break;
        j += n;
    }
    *i = j;
    return vd_buf_add (out, s + run, j - run);
}

int
vd_text_clean (const char *in, size_t len, vd_buf_t *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t start = out->len, i = 0;
    bool any = false;
    while (i < len) {
        size_t n = s_gap_len (s + i, len - i);
        if (n) {
            i += n;
            continue;
        }
        if ((any && vd_buf_addc (out, ' ')) || s_copy_word (s, len, &i, out)) {
            s_truncate (out, start);
            return -1;
        }
        any = true;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Folding: accents removed, lower case

//  U+00C0 .. U+017F folded; '#' = several letters (s_fold_multi), '.' = not
//  a letter (multiplication and division signs), kept as it is.
// clang-format off
static const char s_latin_fold[] =
    "aaaaaa#ceeeeiiii" "dnooooo.ouuuuy##" "aaaaaa#ceeeeiiii" "dnooooo.ouuuuy#y"  //  U+00C0
    "aaaaaaccccccccdd" "ddeeeeeeeeeegggg" "gggghhhhiiiiiiii" "ii##jjkkklllllll"  //  U+0100
    "lllnnnnnnnnnoooo" "oo##rrrrrrssssss" "ssttttttuuuuuuuu" "uuuuwwyyyzzzzzzs"; //  U+0140

static const char *
s_fold_multi (uint32_t cp)
{
    switch (cp) {
    case 0xC6: case 0xE6: return "ae";
    case 0xDE: case 0xFE: return "th";
    case 0xDF: return "ss";
    case 0x132: case 0x133: return "ij";
    default: return "oe";       //  U+0152, U+0153
    }
}
// clang-format on

#define S_FOLD_OPTIONS                                                                             \
    (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_LUMP)

//  Folds one non-ASCII code point into out (>= 128 bytes); returns the
//  length, 0 when the character folds to nothing (a combining accent).
static size_t
s_fold_cp (uint32_t cp, char *out)
{
    if (cp >= 0xC0 && cp <= 0x17F) {
        char c = s_latin_fold[cp - 0xC0];
        if (c == '#') {
            const char *m = s_fold_multi (cp);
            memcpy (out, m, 2);
            return 2;
        }
        if (c != '.') {
            out[0] = c;
            return 1;
        }
        return vd_utf8_encode (cp, out);
    }
    utf8proc_int32_t buf[32];
    int boundclass = 0;
    utf8proc_ssize_t n =
        utf8proc_decompose_char ((utf8proc_int32_t)cp, buf, 32, S_FOLD_OPTIONS, &boundclass);
    if (n < 0 || n > 32)
        return vd_utf8_encode (cp, out);
    size_t k = 0;
    for (utf8proc_ssize_t i = 0; i < n; i++)
        k += vd_utf8_encode ((uint32_t)buf[i], out + k);
    return k;
}

//  --------------------------------------------------------------------------
//  Walker shared by fold, column name and product code: emits folded
//  "kept" characters, turning each run of the others into one separator.

typedef enum { S_FOLD, S_COLUMN, S_CODE } s_mode_t;

typedef struct {
    vd_buf_t *out;
    s_mode_t mode;
    char sep;
    bool any; //  something emitted by this call
    bool gap; //  a separator is due before the next emission
    int rc;
    size_t n;
    char tmp[256];
} s_walk_t;

static void
s_flush (s_walk_t *w)
{
    if (w->n && vd_buf_add (w->out, w->tmp, w->n))
        w->rc = -1;
    w->n = 0;
}

static void
s_emit (s_walk_t *w, const char *p, size_t n)
{
    if (w->n + n + 1 > sizeof w->tmp)
        s_flush (w);
    if (w->gap && w->any)
        w->tmp[w->n++] = w->sep;
    w->gap = false;
    w->any = true;
    memcpy (w->tmp + w->n, p, n);
    w->n += n;
}

//  s_emit for one byte, the common case.
static inline void
s_emit_byte (s_walk_t *w, char c)
{
    if (w->n + 2 > sizeof w->tmp)
        s_flush (w);
    if (w->gap && w->any)
        w->tmp[w->n++] = w->sep;
    w->gap = false;
    w->any = true;
    w->tmp[w->n++] = c;
}

static inline void
s_walk_ascii (s_walk_t *w, unsigned char c)
{
    bool upper = c >= 'A' && c <= 'Z';
    bool lower = c >= 'a' && c <= 'z';
    if (w->mode == S_FOLD) {
        if (c <= 0x20 || c == 0x7F)
            w->gap = true;
        else
            s_emit_byte (w, (char)(upper ? c + 32 : c));
    } else if (upper || lower || (c >= '0' && c <= '9')) {
        if (w->mode == S_COLUMN && upper)
            c = (unsigned char)(c + 32);
        else if (w->mode == S_CODE && lower)
            c = (unsigned char)(c - 32);
        s_emit_byte (w, (char)c);
    } else
        w->gap = true;
}

static void
s_walk_cp (s_walk_t *w, uint32_t cp)
{
    if (cp == VD_UTF8_INVALID || s_is_gap (cp)) {
        if (cp == VD_UTF8_INVALID && w->mode == S_FOLD)
            s_emit (w, S_REPLACEMENT, 3);
        else
            w->gap = true;
        return;
    }
    char f[128];
    size_t n = s_fold_cp (cp, f), i = 0;
    while (i < n) {
        unsigned char b = (unsigned char)f[i];
        if (b < 0x80) {
            s_walk_ascii (w, b);
            i++;
            continue;
        }
        size_t k = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        if (w->mode == S_FOLD)
            s_emit (w, f + i, k);
        else
            w->gap = true;
        i += k;
    }
}

static int
s_walk (const char *in, size_t len, vd_buf_t *out, s_mode_t mode)
{
    const unsigned char *s = (const unsigned char *)in;
    s_walk_t w;
    w.out = out;
    w.mode = mode;
    w.sep = mode == S_FOLD ? ' ' : mode == S_COLUMN ? '_' : '-';
    w.any = w.gap = false;
    w.rc = 0;
    w.n = 0;
    size_t start = out->len, i = 0;
    while (i < len && w.rc == 0) {
        if (s[i] < 0x80) {
            s_walk_ascii (&w, s[i++]);
            continue;
        }
        uint32_t cp;
        i += vd_utf8_decode (s + i, len - i, &cp);
        s_walk_cp (&w, cp);
    }
    s_flush (&w);
    if (w.rc || (mode != S_FOLD && !w.any)) {
        s_truncate (out, start);
        return -1;
    }
    return 0;
}

int
vd_text_fold (const char *in, size_t len, vd_buf_t *out)
{
    return s_walk (in, len, out, S_FOLD);
}

int
vd_text_column_name (const char *in, size_t len, vd_buf_t *out)
{
    return s_walk (in, len, out, S_COLUMN);
}

int
vd_text_product_code (const char *in, size_t len, vd_buf_t *out)
{
    return s_walk (in, len, out, S_CODE);
}

//  --------------------------------------------------------------------------
//  Emails

static bool
s_email_local_ok (const char *p, size_t n)
{
    static const char allowed[] = "!#$%&'*+/=?^_`{|}~-.";
    if (n == 0 || p[0] == '.' || p[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (c == '\0' || !strchr (allowed, c)))
            return false;
        if (c == '.' && p[i + 1] == '.')
            return false;
    }
    return true;
}

static bool
s_email_domain_ok (const char *p, size_t n)
{
    size_t labels = 0, i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && p[j] != '.')
            j++;
        if (j == i || j - i > 63 || p[i] == '-' || p[j - 1] == '-')
            return false;
        for (size_t k = i; k < j; k++) {
            char c = p[k];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                return false;
        }
        labels++;
        i = j + 1;
    }
    return labels >= 2;
}

static bool
s_email_plausible (const char *p, size_t n)
{
    const char *at = memchr (p, '@', n);
    if (n > S_EMAIL_MAX || !at || memchr (at + 1, '@', n - (size_t)(at - p) - 1))
        return false;
    size_t local = (size_t)(at - p);
    return s_email_local_ok (p, local) && s_email_domain_ok (at + 1, n - local - 1);
}

int
vd_text_email (const char *in, size_t len, vd_buf_t *out, bool *valid)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t b, e, start = out->len;
    vd_text_trim (in, len, &b, &e);
    bool ok = true;
    char tmp[64];
    size_t n = 0;
    for (size_t i = b; i < e;) {
        uint32_t cp;
        i += vd_utf8_decode (s + i, e - i, &cp);
        ok = ok && cp < 0x80;
        if (cp == VD_UTF8_INVALID)
            cp = 0xFFFD;
        else if (cp >= 'A' && cp <= 'Z')
            cp += 32;
        else if (cp >= 0x80)
            cp = (uint32_t)utf8proc_tolower ((utf8proc_int32_t)cp);
        n += vd_utf8_encode (cp, tmp + n);
        if (n + 4 <= sizeof tmp && i < e)
            continue;
        if (vd_buf_add (out, tmp, n)) {
            s_truncate (out, start);
            return -1;
        }
        n = 0;
    }
    *valid = b == e || (ok && s_email_plausible (out->data + start, out->len - start));
    return 0;
}

//  --------------------------------------------------------------------------
//  Phones

static bool
s_is_letter (unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

//  Length of an extension marker at s followed by a non-letter, or 0.
static size_t
s_extension_len (const unsigned char *s, size_t len)
{
    static const char *markers[] = {"extension", "extn", "ext", "poste", "x"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        size_t n = strlen (markers[i]);
        if (n <= len && strncasecmp ((const char *)s, markers[i], n) == 0 &&
            (n == len || !s_is_letter (s[n])))
            return n;
    }
    return 0;
}

//  A phone character other than a space, a digit or the leading '+':
//  returns how many bytes to skip, 0 when it makes the text no phone.
static size_t
s_phone_other (const unsigned char *s, size_t len, size_t digits, bool plus, bool *ext)
{
    if (s[0] == '(' && plus && digits > 0 && len >= 3 && s[1] == '0' && s[2] == ')')
        return 3; //  "+33 (0)6 ...": the trunk 0 is not dialled
    if (s_is_letter (s[0])) {
        size_t n = *ext || digits == 0 ? 0 : s_extension_len (s, len);
        *ext = n > 0;
        return n;
    }
    if (s[0] < 0x80)
        return 1;
    uint32_t cp;
    size_t n = vd_utf8_decode (s, len, &cp);
    if (cp == VD_UTF8_INVALID)
        return 0;
    utf8proc_category_t cat = utf8proc_category ((utf8proc_int32_t)cp);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO ? 0 : n;
}

int
vd_text_phone (const char *in, size_t len, vd_buf_t *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t start = out->len, i = 0, digits = 0;
    bool first = true, plus = false, ext = false;
    int rc = 0;
    while (i < len && rc == 0) {
        size_t gap = s_gap_len (s + i, len - i), n;
        unsigned char c = s[i];
        if (gap)
            i += gap;
        else if (first && (c == '+' || (c == '0' && i + 1 < len && s[i + 1] == '0'))) {
            rc = vd_buf_addc (out, '+');
            plus = true;
            i += c == '+' ? 1 : 2;
        } else if (c >= '0' && c <= '9') {
            if (!ext && (rc = vd_buf_addc (out, (char)c)) == 0)
                digits++;
            i++;
        } else if ((n = s_phone_other (s + i, len - i, digits, plus, &ext)) > 0)
            i += n;
        else
            rc = -1;
        first = first && gap > 0;
    }
    if (rc || digits == 0 || digits > 15) {
        s_truncate (out, start);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test

typedef int (s_text_fn) (const char *in, size_t len, vd_buf_t *out);

// clang-format off
//  fn (in) gives want, or -1 with nothing appended when want is NULL.
static const struct {
    s_text_fn *fn;
    const char *in, *want;
} s_cases[] = {
    {vd_text_clean, "  Jean   Dupont ", "Jean Dupont"}, {vd_text_clean, "\tA\r\nB\t", "A B"},
    {vd_text_clean, "\xC2\xA0" "A\xE2\x80\xAF\xE2\x80\x89" "B\xE3\x80\x80", "A B"},
    {vd_text_clean, "\x01" "A\x7F" "B\xEF\xBB\xBF\xC2\x85", "A B"},
    {vd_text_clean, "Cr\xC3\xA9mant d'Alsace", "Cr\xC3\xA9mant d'Alsace"},
    {vd_text_clean, " a\xFF" "b\xE2\x82 ", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD"},
    {vd_text_clean, "", ""}, {vd_text_clean, " \xC2\xA0 ", ""},
    {vd_text_fold, " Cr\xC3\xA8me  BR\xC3\x9BL\xC3\x89" "E ", "creme brulee"},
    {vd_text_fold, "\xC5\x92uvre \xC5\x93uf", "oeuvre oeuf"},
    {vd_text_fold, "\xC3\x86sop Stra\xC3\x9F" "e", "aesop strasse"},
    {vd_text_fold, "\xC5\x81\xC3\xB3" "d\xC5\xBA \xC3\x98", "lodz o"},
    {vd_text_fold, "e\xCC\x81t\xC3\xA9", "ete"},                    //  NFD input
    {vd_text_fold, "\xEF\xAC\x81n", "fin"},                        //  fi ligature
    {vd_text_fold, "d\xE2\x80\x99" "Alsace", "d'alsace"},
    {vd_text_fold, "\xCE\x86\xCE\xBB", "\xCE\xB1\xCE\xBB"},         //  Greek
    {vd_text_fold, "12 \xE2\x82\xAC", "12 \xE2\x82\xAC"},
    {vd_text_fold, "\xC3", "\xEF\xBF\xBD"}, {vd_text_fold, "", ""},
    {vd_text_column_name, "Code Client", "code_client"},
    {vd_text_column_name, "Mill\xC3\xA9sime", "millesime"},
    {vd_text_column_name, "Prix TTC (\xE2\x82\xAC)", "prix_ttc"},
    {vd_text_column_name, "__Date-de  vente__", "date_de_vente"},
    {vd_text_column_name, "\xEF\xBB\xBF" "N\xC2\xB0 client", "n_client"},
    {vd_text_column_name, "(\xE2\x82\xAC)", NULL}, {vd_text_column_name, "", NULL},
    {vd_text_product_code, "ries-res-2022", "RIES-RES-2022"},
    {vd_text_product_code, "GEW VT 2018", "GEW-VT-2018"},
    {vd_text_product_code, "Cr\xC3\xA9mant d'Alsace Brut", "CREMANT-D-ALSACE-BRUT"},
    {vd_text_product_code, " --\xC5\x93nologie_2020-- ", "OENOLOGIE-2020"},
    {vd_text_product_code, "a\xFF" "b", "A-B"},
    {vd_text_product_code, " - ", NULL}, {vd_text_product_code, "", NULL},
    {vd_text_phone, "+33 6 12 34 56 78", "+33612345678"},
    {vd_text_phone, "03.89.12.34.56", "0389123456"}, {vd_text_phone, "0033 6 12", "+33612"},
    {vd_text_phone, " +33 (0)6 12-34-56-78", "+33612345678"},
    {vd_text_phone, "03 89 12 34 56 poste 12", "0389123456"},
    {vd_text_phone, "(03) 89/12/34/56 ext. 7", "0389123456"},
    {vd_text_phone, "\xC2\xA0" "06\xC2\xA0" "12", "0612"},
    {vd_text_phone, "n/a", NULL}, {vd_text_phone, "", NULL}, {vd_text_phone, "+", NULL},
    {vd_text_phone, "tel 06 12", NULL}, {vd_text_phone, "06 12 abc", NULL},
    {vd_text_phone, "06 12 x 3 x 4", NULL}, {vd_text_phone, "06 12 \xC3\xA9", NULL},
    {vd_text_phone, "06 \xFF", NULL}, {vd_text_phone, "06 12 34 56 78 / 06 98 76 54 32", NULL},
};

//  vd_text_email (in) gives want and valid.
static const struct {
    const char *in, *want;
    bool valid;
} s_emails[] = {
    {" Jean.Dupont@Example.FR ", "jean.dupont@example.fr", true},
    {"o'neil+vin@cave-alsace.co.uk", "o'neil+vin@cave-alsace.co.uk", true},
    {"", "", true}, {" \xC2\xA0 ", "", true},
    {"jean@@x.fr", "jean@@x.fr", false}, {"jean@localhost", "jean@localhost", false},
    {"jean dupont@x.fr", "jean dupont@x.fr", false}, {"@x.fr", "@x.fr", false},
    {"jean@", "jean@", false}, {"jean", "jean", false},
    {"jean@x..fr", "jean@x..fr", false}, {"jean.@x.fr", "jean.@x.fr", false},
    {"je..an@x.fr", "je..an@x.fr", false}, {"jean@-x.fr", "jean@-x.fr", false},
    {"jean@x_y.fr", "jean@x_y.fr", false}, {"J\xC3\x89" "AN@x.fr", "j\xC3\xA9" "an@x.fr", false},
};

//  vd_utf8_convert (encoding, in) gives want, NULL when it must fail.
static const struct {
    const char *encoding, *in;
    size_t len;
    const char *want;
} s_conversions[] = {
    {"cp1252", "\x80 caf\xE9 \x9C \x81", 10, "\xE2\x82\xAC caf\xC3\xA9 \xC5\x93 \xEF\xBF\xBD"},
    {"iso-8859-1", "\xE9t\xE9 \x80", 5, "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC"},
    {"latin9", "\xA4\xBD\xE9", 3, "\xE2\x82\xAC\xC5\x93\xC3\xA9"},
    {"utf-8", "a\xC3\xA9\xE2\x82x\xED\xA0\x80", 9,
     "a\xC3\xA9\xEF\xBF\xBDx\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"UTF8", "", 0, ""}, {"ebcdic", "abc", 3, NULL}, {NULL, "abc", 3, NULL},
};
// clang-format on

static int
s_check (bool verbose, const char *name, const char *in, bool ok)
{
    if (!ok)
        fprintf (stderr, "vd_text: FAIL %s (\"%s\")\n", name, in);
    else if (verbose)
        printf ("vd_text: ok %s (\"%s\")\n", name, in);
    return ok ? 0 : 1;
}

static int
s_test_cases (bool verbose)
{
    int f = 0;
    vd_buf_t b;
    vd_buf_init (&b, 4096);
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        vd_buf_reset (&b);
        const char *want = s_cases[i].want;
        int rc = s_cases[i].fn (s_cases[i].in, strlen (s_cases[i].in), &b);
        bool ok = want ? rc == 0 && strcmp (vd_buf_str (&b), want) == 0 : rc == -1 && b.len == 0;
        if (!ok)
            fprintf (stderr, "vd_text: FAIL case %zu: got \"%s\" rc %d want \"%s\"\n", i,
                     vd_buf_str (&b), rc, want ? want : "(error)");
        f += s_check (verbose, "case", s_cases[i].in, ok);
    }
    for (size_t i = 0; i < sizeof s_emails / sizeof s_emails[0]; i++) {
        vd_buf_reset (&b);
        bool valid = !s_emails[i].valid;
        int rc = vd_text_email (s_emails[i].in, strlen (s_emails[i].in), &b, &valid);
        f += s_check (verbose, "email", s_emails[i].in,
                      rc == 0 && valid == s_emails[i].valid &&
                          strcmp (vd_buf_str (&b), s_emails[i].want) == 0);
    }
    for (size_t i = 0; i < sizeof s_conversions / sizeof s_conversions[0]; i++) {
        vd_buf_reset (&b);
        const char *want = s_conversions[i].want;
        int rc = vd_utf8_convert (s_conversions[i].encoding, s_conversions[i].in,
                                  s_conversions[i].len, &b);
        f += s_check (verbose, "to_utf8", s_conversions[i].in,
                      want ? rc == 0 && strcmp (vd_buf_str (&b), want) == 0
                           : rc == -1 && b.len == 0);
    }
    vd_buf_free (&b);
    return f;
}

static int
s_test_utf8 (bool verbose)
{
    static const struct {
        const char *in;
        size_t len;
        bool valid;
    } cases[] = {
        {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8D\xB7", 14, true},
        {"", 0, true},
        {"\xC0\x80", 2, false},
        {"\xE0\x80\x80", 3, false},
        {"\xED\xA0\x80", 3, false},
        {"\xF4\x90\x80\x80", 4, false},
        {"\xE2\x82", 2, false},
        {"\x80", 1, false},
        {"\xF5\x80\x80\x80", 4, false},
        {"abcdefghijkl\xFFm", 14, false},
    };
    static const char *labels[][2] = {
        {"CP1252", "windows-1252"},
        {"win-1252", "windows-1252"},
        {"Windows_1252", "windows-1252"},
        {"Latin1", "iso-8859-1"},
        {"iso88591", "iso-8859-1"},
        {"latin9", "iso-8859-15"},
        {"ISO-8859-15", "iso-8859-15"},
        {"UTF8", "utf-8"},
        {"utf-8", "utf-8"},
        {"ebcdic", NULL},
        {"utf-8-utf-8-utf-8-utf-8-utf-8-utf-8", NULL},
    };
    int f = s_check (verbose, "encoding", "NULL", vd_utf8_encoding_name (NULL) == NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        f += s_check (verbose, "utf8_valid", cases[i].in,
                      vd_utf8_valid (cases[i].in, cases[i].len) == cases[i].valid);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        const char *name = vd_utf8_encoding_name (labels[i][0]);
        f += s_check (verbose, "encoding", labels[i][0],
                      labels[i][1] ? name && strcmp (name, labels[i][1]) == 0 : name == NULL);
    }
    //  The hand fold table agrees with Unicode wherever Unicode decomposes.
    for (uint32_t cp = 0xC0; cp <= 0x17F; cp++) {
        utf8proc_int32_t d[8];
        int bc = 0;
        utf8proc_ssize_t n = utf8proc_decompose_char (
            (utf8proc_int32_t)cp, d, 8, UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD,
            &bc);
        char mine[128];
        size_t k = s_fold_cp (cp, mine);
        if (n == 1 && d[0] < 0x80 && (k != 1 || mine[0] != (char)d[0]))
            f += s_check (verbose, "latin fold table", "", false);
    }
    return f;
}

static int
s_test_edges (bool verbose)
{
    const char *pad = " \xE2\x80\xAF"
                      "a b\xC2\xA0\t";
    size_t b, e;
    vd_text_trim (pad, strlen (pad), &b, &e);
    int f = s_check (verbose, "trim", pad, b == 4 && e == 7);
    vd_text_trim ("\xC2\xA0 ", 3, &b, &e);
    f += s_check (verbose, "trim blank", "", b == e);
    vd_text_trim ("a\xC3\xA9\x80", 4, &b, &e);
    f += s_check (verbose, "trim invalid tail", "", b == 0 && e == 4);
    f += s_check (verbose, "space_len", "",
                  vd_text_space_len ("\xE2\x80\x87", 3) == 3 && vd_text_space_len ("\t", 1) == 1 &&
                      vd_text_space_len ("a", 1) == 0 && vd_text_space_len ("\xC2", 1) == 0 &&
                      vd_text_space_len ("", 0) == 0);
    char big[300];
    memset (big, 'a', sizeof big);
    memcpy (big + 250, "@x.fr", 6);
    bool valid = true;
    vd_buf_t buf;
    vd_buf_init (&buf, 4);
    f += s_check (verbose, "email too long", "",
                  vd_text_email (big, 255, &buf, &valid) == -1 && buf.len == 0);
    vd_buf_addstr (&buf, "x");
    f += s_check (verbose, "clean ceiling", "",
                  vd_text_clean (" abcdef", 7, &buf) == -1 && strcmp (vd_buf_str (&buf), "x") == 0);
    f += s_check (verbose, "clean appends", "",
                  vd_text_clean (" ab ", 4, &buf) == 0 && strcmp (vd_buf_str (&buf), "xab") == 0);
    f += s_check (verbose, "fold ceiling", "",
                  vd_text_fold ("ABCDEF", 6, &buf) == -1 && strcmp (vd_buf_str (&buf), "xab") == 0);
    f += s_check (verbose, "to_utf8 ceiling", "",
                  vd_utf8_convert ("cp1252", "\xE9\xE9", 2, &buf) == -1 &&
                      strcmp (vd_buf_str (&buf), "xab") == 0);
    vd_buf_free (&buf);
    vd_buf_init (&buf, 1024);
    f += s_check (verbose, "email 255 bytes", "",
                  vd_text_email (big, 255, &buf, &valid) == 0 && !valid);
    vd_buf_free (&buf);
    return f;
}

int
vd_hex_digit (char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int
vd_text_test (bool verbose)
{
    int f = s_test_cases (verbose) + s_test_utf8 (verbose) + s_test_edges (verbose);
    f += vd_hex_digit ('0') != 0 || vd_hex_digit ('9') != 9 || vd_hex_digit ('a') != 10 ||
         vd_hex_digit ('F') != 15 || vd_hex_digit ('g') != -1 || vd_hex_digit ('/') != -1;
    if (verbose || f)
        printf ("vd_text: %s (%d failed)\n", f ? "FAILED" : "OK", f);
    return f ? -1 : 0;
}
