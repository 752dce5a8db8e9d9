/* features.h - the runtime spec's features document (`features`). */
#ifndef POLIS_RUNTIME_FEATURES_H
#define POLIS_RUNTIME_FEATURES_H

#include <jansson.h>

/* What this runtime supports, in features-linux.json's shape.  New
   reference. */
json_t *features_document (void);

#endif
