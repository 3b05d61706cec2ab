/*  vd_text - text normalisation rules of SPEC.md ("Text", "Column names",
    product codes, emails, phones).

    Inputs are UTF-8 byte ranges (not necessarily NUL-terminated); outputs
    are appended to a vd_buf_t (callers reset it first when they want only
    the result). Invalid UTF-8 sequences in the input are replaced by
    U+FFFD, never passed through.
*/
#ifndef VD_TEXT_H_INCLUDED
#define VD_TEXT_H_INCLUDED

#include "vd_buf.h"
#include <stdbool.h>
#include <stddef.h>

/*  Trims, collapses every run of white space (ASCII white space, NBSP
    U+00A0, narrow NBSP U+202F, other Unicode spaces) into one ASCII space.
    Returns 0, -1 when out would pass its ceiling. */
int vd_text_clean (const char *in, size_t len, vd_buf_t *out);

/*  Like vd_text_clean, then removes accents (é -> e, ç -> c, œ -> oe,
    æ -> ae, ß -> ss) and lower-cases. For matching words, never stored. */
int vd_text_fold (const char *in, size_t len, vd_buf_t *out);

/*  Column name rule: lower case, accents removed, every run of characters
    other than [a-z0-9] turned into one '_', no '_' at either end
    ("Code Client" -> "code_client", "Millésime" -> "millesime",
    "Prix TTC (€)" -> "prix_ttc"). Returns 0, or -1 when the result is
    empty or out would pass its ceiling. */
int vd_text_column_name (const char *in, size_t len, vd_buf_t *out);

/*  Product key rule: upper case, accents removed, every run of characters
    other than [A-Z0-9] turned into one '-', no '-' at either end
    ("ries-res-2022" -> "RIES-RES-2022", "Crémant d'Alsace Brut" ->
    "CREMANT-D-ALSACE-BRUT"). Returns 0, or -1 when the result is empty. */
int vd_text_product_code (const char *in, size_t len, vd_buf_t *out);

/*  Email rule: trims and lower-cases into out; *valid tells whether the
    result is a plausible address (one '@', non-empty local part of allowed
    characters, a domain with a dot, labels of [a-z0-9-] not starting or
    ending with '-', no spaces, at most 254 bytes). Empty input gives an
    empty out and *valid = true. Returns 0, -1 on buffer ceiling. */
int vd_text_email (const char *in, size_t len, vd_buf_t *out, bool *valid);

/*  Phone rule: keeps digits, and a '+' when it is the first non-space
    character ("+33 6 12 34 56 78" -> "+33612345678", "03.89.12.34.56" ->
    "0389123456"). A leading "00" becomes "+". Returns 0, or -1 when the
    input holds no digit or letters other than an extension marker. */
int vd_text_phone (const char *in, size_t len, vd_buf_t *out);

/*  Length in bytes of the white-space character at the start of
    s[0..len) (ASCII space, \t \n \v \f \r, NEL, NBSP U+00A0, narrow NBSP
    U+202F, the other Unicode space separators, U+2028, U+2029), 0 when s
    does not start with one. For parsers that trim (numbers, dates). */
size_t vd_text_space_len (const char *s, size_t len);

/*  Bounds of s[0..len) without the white space (as vd_text_space_len) at
    either end: the text is s[*begin..*end); *begin == *end when blank. */
void vd_text_trim (const char *s, size_t len, size_t *begin, size_t *end);

/*  The value of a hex digit (either case), -1 for another character. */
int vd_hex_digit (char c);

/*  Self test (bad input included). Returns 0 when every check passes. */
int vd_text_test (bool verbose);

#endif
