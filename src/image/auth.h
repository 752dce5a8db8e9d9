/* auth.h - registry authentication: challenges, credentials, tokens.
 *
 * Parses WWW-Authenticate (RFC 7235 challenges, as registries send them),
 * reads credentials from ~/.docker/config.json ($DOCKER_CONFIG), and parses
 * token server answers.  Everything here reads hostile input with caps.
 */
#ifndef POLIS_IMAGE_AUTH_H
#define POLIS_IMAGE_AUTH_H

#include <stddef.h>

#include "base/error.h"

#define AUTH_HEADER_MAX 8192       /* one WWW-Authenticate value */
#define AUTH_PARAMS_MAX 16         /* auth-params in one challenge */
#define AUTH_TOKEN_RESPONSE_MAX (1u << 20)
#define AUTH_DOCKER_CONFIG_MAX (1u << 20)

typedef enum
{
  AUTH_NONE = 0,
  AUTH_BASIC,
  AUTH_BEARER,
} auth_scheme;

typedef struct
{
  auth_scheme scheme;
  char *realm;
  char *service;
  char *scope;
  char *error;
} auth_challenge;

/* Parse a WWW-Authenticate value.  Takes the first Bearer challenge, else
   the first Basic one.  Unknown schemes give AUTH_NONE without error. */
int auth_parse_challenge (const char *header, auth_challenge *out,
                          polis_error **err);
void auth_challenge_clear (auth_challenge *c);

/* Credentials for REGISTRY ("localhost:5000", "docker.io") from
   CONFIG_DIR/config.json (NULL: $DOCKER_CONFIG, else ~/.docker).
   Returns 1 and sets *USER / *PASS (heap) when found, 0 when not. */
int auth_lookup_credentials (const char *config_dir, const char *registry,
                             char **user, char **pass, polis_error **err);

/* "Basic <base64(user:pass)>".  Caller frees. */
char *auth_basic_value (const char *user, const char *pass);

/* The token URL: REALM?service=…&scope=… (each scope repeated).  Caller
   frees.  SCOPES is NULL-terminated. */
char *auth_token_url (const auth_challenge *c, char *const *scopes);

/* Parse a token server's JSON: "token" or "access_token", "expires_in"
   (default 60).  *TOKEN is heap. */
int auth_parse_token_response (const char *body, size_t len, char **token,
                               long *expires_in, polis_error **err);

/* base64 helpers (OpenSSL).  Caller frees; decode returns NULL on bad
   input and caps at MAX bytes. */
char *auth_base64_encode (const void *buf, size_t len);
char *auth_base64_decode (const char *s, size_t max, size_t *len);

#endif
