/*  vendange.h - the one header every vendange .c includes.

    Pulls in the system and library headers the project uses and the
    public API of common/ (libvd.a).
*/
#ifndef VENDANGE_H_INCLUDED
#define VENDANGE_H_INCLUDED

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define VD_VERSION "0.1.0"

/*  Self-tests: when cond is false, counts one failure in *failures (an
    int) and prints the function, line and condition (and why, a string,
    for VD_CHECK_WHY). */
#define VD_CHECK_WHY(failures, cond, why)                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (*(failures))++;                                                                       \
            fprintf (stderr, "%s:%d: %s%s%s\n", __func__, __LINE__, #cond, *(why) ? ": " : "",     \
                     (why));                                                                       \
        }                                                                                          \
    } while (0)
#define VD_CHECK(failures, cond) VD_CHECK_WHY (failures, cond, "")

#include "vd_error.h"
#include "vd_log.h"
#include "vd_buf.h"
#include "vd_config.h"
#include "vd_text.h"
#include "vd_utf8.h"
#include "vd_number.h"
#include "vd_date.h"
#include "vd_units.h"
#include "vd_packaging.h"
#include "vd_schema.h"

#endif
