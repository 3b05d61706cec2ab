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

#include "vd_error.h"
#include "vd_log.h"
#include "vd_buf.h"
#include "vd_config.h"
#include "vd_text.h"
#include "vd_number.h"
#include "vd_date.h"
#include "vd_units.h"
#include "vd_packaging.h"
#include "vd_schema.h"

#endif
