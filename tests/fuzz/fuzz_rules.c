/*  fuzz_rules - the normalizer's value rules that read numbers, units and
    volumes (contenance "75 cl", "0,75 L", "Magnum"; quantities x unit
    factors; money incl. / excl. VAT; vintages; dates; lists; emails and
    phones). The first byte picks the rule, the rest is split on NUL bytes
    into the rule's inputs. */
#include "vendange.h"
#include "norm_rules.h"

#define MAX_INPUTS VD_COL_INPUTS /* as norm_batch gives them */

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const vd_rule_t rules[] = {
        VD_RULE_VOLUME_CL,      VD_RULE_BOTTLES,     VD_RULE_QUANTITY,      VD_RULE_MONEY,
        VD_RULE_NUMBER,         VD_RULE_INT,         VD_RULE_VINTAGE,       VD_RULE_DATE,
        VD_RULE_INSTANT,        VD_RULE_BOOL,        VD_RULE_LIST,          VD_RULE_CATEGORY,
        VD_RULE_EMAIL,          VD_RULE_PHONE,       VD_RULE_PRICE_SEGMENT, VD_RULE_COST,
        VD_RULE_MARGIN_PERCENT, VD_RULE_AVAILABLE,   VD_RULE_TEXT,          VD_RULE_CHANNEL,
        VD_RULE_JSON,           VD_RULE_PRODUCT_REF, VD_RULE_EMAIL_INVALID, VD_RULE_LOWER,
    };
    static vd_units_t *units;
    if (!units && !(units = vd_units_new ()))
        abort (); /* a set-up failure, not a finding */
    if (size == 0)
        return 0;
    vd_rule_t rule = rules[data[0] % (sizeof rules / sizeof rules[0])];
    const char *in[MAX_INPUTS] = {NULL};
    size_t in_len[MAX_INPUTS] = {0};
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    for (int i = 0; i < MAX_INPUTS && p <= end; i++) {
        const char *nul = memchr (p, '\0', (size_t)(end - p));
        in[i] = p;
        in_len[i] = nul ? (size_t)(nul - p) : (size_t)(end - p);
        p += in_len[i] + 1;
    }
    if (rule == VD_RULE_BOOL) /* its in[1] is the schema's default, a constant */
        in[1] = in_len[1] % 3 == 0 ? NULL : in_len[1] % 3 == 1 ? "true" : "false";
    vd_buf_t scratch;
    vd_buf_init (&scratch, NORM_MAX_FIELD);
    vd_dec_t vat;
    if (vd_dec_parse ("1.20", 4, &vat) < 0)
        abort ();
    norm_input_t ctx = {.source = "isavigne",
                        .connector = "fuzz",
                        .units = units,
                        .vat_factor = vat,
                        .tz = "Europe/Paris",
                        .in = in,
                        .in_len = in_len,
                        .scratch = &scratch};
    norm_value_t out;
    norm_value_init (&out);
    const char *reason = NULL;
    int bad = -1;
    (void)norm_rule_apply (rule, &ctx, &out, &reason, &bad);
    norm_value_free (&out);
    vd_buf_free (&scratch);
    return 0;
}
