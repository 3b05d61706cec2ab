/*  vd_utf8 - UTF-8 decoding shared by the text rules (internal to
    common/: vd_text.c and vd_utf8.c), and the encodings vd_text.h
    declares (vd_utf8_valid, vd_utf8_convert, vd_utf8_encoding_name).
*/
#ifndef VD_UTF8_H_INCLUDED
#define VD_UTF8_H_INCLUDED

#include "vd_buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool vd_utf8_valid (const char *s, size_t len);

/*  Converts in[0..len) from the named single-byte or UTF-8 encoding
    ("utf-8", "windows-1252", "iso-8859-1", "iso-8859-15", case and
    punctuation ignored) into UTF-8 appended to out, replacing undecodable
    bytes by U+FFFD. Returns 0, -1 on unknown encoding or ceiling. */
int vd_utf8_convert (const char *encoding, const char *in, size_t len, vd_buf_t *out);

/*  Canonical name of an encoding label ("cp1252" -> "windows-1252",
    "latin9" -> "iso-8859-15", "utf8" -> "utf-8"), NULL when unknown. */
const char *vd_utf8_encoding_name (const char *label);

#define VD_UTF8_INVALID 0x110000u /* vd_utf8_decode: not a valid sequence */
#define VD_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/*  Decodes one sequence at s (len >= 1). Returns the bytes consumed: the
    whole sequence, or for an invalid one its maximal subpart (>= 1) with
    *cp = VD_UTF8_INVALID (Unicode table 3-7: no overlongs, no surrogates,
    nothing past U+10FFFF), so each broken sequence becomes one U+FFFD. */
size_t vd_utf8_decode (const unsigned char *s, size_t len, uint32_t *cp);
/*  Writes cp (a valid scalar value) as UTF-8 into out[4]; returns length. */
size_t vd_utf8_encode (uint32_t cp, char *out);
/*  Length of the run of ASCII bytes at the start of s[0..len). */
size_t vd_utf8_ascii_run (const unsigned char *s, size_t len);

#endif
