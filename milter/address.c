/* address.c: placeholder until its stage lands. */
#include "lurewall.h"
