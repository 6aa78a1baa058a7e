/* iso2022jp.c: placeholder until its stage lands. */
#include "lurewall.h"
