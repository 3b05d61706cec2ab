/*  vd_utf8 - UTF-8 decoding and the single-byte encodings of the sources
    (windows-1252, ISO-8859-1, ISO-8859-15) converted to UTF-8.
*/
#include "vendange.h"
#include "vd_utf8.h"
#include <utf8proc.h>

#define S_REPLACEMENT VD_UTF8_REPLACEMENT

//  --------------------------------------------------------------------------
//  UTF-8 decoding and encoding

//  Decodes one sequence at s (len >= 1). Returns the bytes consumed: the
//  whole sequence, or for an invalid one its maximal subpart (>= 1) with
//  *cp = VD_UTF8_INVALID.
size_t
vd_utf8_decode (const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        v = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        v = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        *cp = VD_UTF8_INVALID;
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= len || s[i] < lo || s[i] > hi) {
            *cp = VD_UTF8_INVALID;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need;
}

//  Writes cp (a valid scalar value) as UTF-8 into out[4]; returns length.
size_t
vd_utf8_encode (uint32_t cp, char *out)
{
    return (size_t)utf8proc_encode_char ((utf8proc_int32_t)cp, (utf8proc_uint8_t *)out);
}

//  Length of the run of ASCII bytes at the start of s[0..len).
size_t
vd_utf8_ascii_run (const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i + 8 <= len) {
        uint64_t w;
        memcpy (&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
        i += 8;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

//  Undoes whatever a failed call appended.
static void
s_truncate (vd_buf_t *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

bool
vd_utf8_valid (const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        i += vd_utf8_ascii_run (s + i, len - i);
        if (i == len)
            break;
        uint32_t cp;
        i += vd_utf8_decode (s + i, len - i, &cp);
        if (cp == VD_UTF8_INVALID)
            return false;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  Encodings

//  0x80..0xFF of each single-byte encoding; 0 marks an undefined byte.
#define S_ROW(h)                                                                                   \
    0x##h##0, 0x##h##1, 0x##h##2, 0x##h##3, 0x##h##4, 0x##h##5, 0x##h##6, 0x##h##7, 0x##h##8,      \
        0x##h##9, 0x##h##A, 0x##h##B, 0x##h##C, 0x##h##D, 0x##h##E, 0x##h##F

#define S_CP1252_80_9F                                                                             \
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,     \
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,   \
        0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178

static const uint16_t s_cp1252[128] = {S_CP1252_80_9F, S_ROW (A), S_ROW (B), S_ROW (C),
                                       S_ROW (D),      S_ROW (E), S_ROW (F)};

//  ISO-8859-1 as the WHATWG Encoding Standard decodes it: files labelled
//  latin-1 are in practice windows-1252 (0x80 is the euro sign), so the
//  C1 range takes the windows-1252 characters; its five holes stay C1.
// clang-format off
static const uint16_t s_latin1[128] = {
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
    0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    S_ROW (A), S_ROW (B), S_ROW (C), S_ROW (D), S_ROW (E), S_ROW (F)
};

static const uint16_t s_latin9[128] = {
    S_ROW (8), S_ROW (9),
    0xA0, 0xA1, 0xA2, 0xA3, 0x20AC, 0xA5, 0x0160, 0xA7, 0x0161, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,
    0xB0, 0xB1, 0xB2, 0xB3, 0x017D, 0xB5, 0xB6, 0xB7, 0x017E, 0xB9, 0xBA, 0xBB, 0x0152, 0x0153, 0x0178, 0xBF,
    S_ROW (C), S_ROW (D), S_ROW (E), S_ROW (F)
};
// clang-format on

static const struct {
    const char *label; //  lower case, without '-' and '_'
    const char *name;
} s_encodings[] = {
    {"utf8", "utf-8"},           {"cp1252", "windows-1252"},   {"windows1252", "windows-1252"},
    {"win1252", "windows-1252"}, {"latin1", "iso-8859-1"},     {"iso88591", "iso-8859-1"},
    {"latin9", "iso-8859-15"},   {"iso885915", "iso-8859-15"},
};

const char *
vd_utf8_encoding_name (const char *label)
{
    if (!label)
        return NULL;
    char key[32];
    size_t n = 0;
    for (const char *p = label; *p; p++) {
        char c = *p;
        if (c == '-' || c == '_' || c == ' ')
            continue;
        if (n + 1 >= sizeof key)
            return NULL;
        key[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    key[n] = '\0';
    for (size_t i = 0; i < sizeof s_encodings / sizeof s_encodings[0]; i++)
        if (strcmp (key, s_encodings[i].label) == 0)
            return s_encodings[i].name;
    return NULL;
}

//  Appends valid UTF-8 runs as they are, each invalid sequence as U+FFFD.
static int
s_utf8_sanitize (const unsigned char *s, size_t len, vd_buf_t *out)
{
    size_t run = 0, i = 0;
    while (i < len) {
        i += vd_utf8_ascii_run (s + i, len - i);
        if (i == len)
            break;
        uint32_t cp;
        size_t n = vd_utf8_decode (s + i, len - i, &cp);
        if (cp == VD_UTF8_INVALID) {
            if (vd_buf_add (out, s + run, i - run) || vd_buf_add (out, S_REPLACEMENT, 3))
                return -1;
            run = i + n;
        }
        i += n;
    }
    return vd_buf_add (out, s + run, len - run);
}

static int
s_single_byte (const uint16_t *table, const unsigned char *s, size_t len, vd_buf_t *out)
{
    size_t i = 0;
    while (i < len) {
        size_t n = vd_utf8_ascii_run (s + i, len - i);
        if (vd_buf_add (out, s + i, n))
            return -1;
        i += n;
        char tmp[96];
        size_t k = 0;
        while (i < len && s[i] >= 0x80 && k + 3 <= sizeof tmp) {
            uint16_t cp = table[s[i++] - 0x80];
            if (cp)
                k += vd_utf8_encode (cp, tmp + k);
            else {
                memcpy (tmp + k, S_REPLACEMENT, 3);
                k += 3;
            }
        }
        if (vd_buf_add (out, tmp, k))
            return -1;
    }
    return 0;
}

//  The table of an encoding (NULL for UTF-8), -1 when unknown. Called for
//  every field of a file: a canonical name (what readers pass, resolved
//  once per file) is recognised without normalising the label.
static int
s_codec (const char *encoding, const uint16_t **table)
{
    static const struct {
        const char *name;
        const uint16_t *table;
    } codecs[] = {{"utf-8", NULL},
                  {"windows-1252", s_cp1252},
                  {"iso-8859-1", s_latin1},
                  {"iso-8859-15", s_latin9}};
    for (int pass = 0; pass < 2 && encoding; pass++) {
        for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
            if (strcmp (encoding, codecs[i].name) == 0) {
                *table = codecs[i].table;
                return 0;
            }
        encoding = vd_utf8_encoding_name (encoding);
    }
    return -1;
}

int
vd_utf8_convert (const char *encoding, const char *in, size_t len, vd_buf_t *out)
{
    const uint16_t *table;
    if (s_codec (encoding, &table) < 0)
        return -1;
    const unsigned char *s = (const unsigned char *)in;
    size_t start = out->len;
    int rc = table ? s_single_byte (table, s, len, out) : s_utf8_sanitize (s, len, out);
    if (rc)
        s_truncate (out, start);
    return rc;
}
