/* digest.c - sha256 content digests computed while streaming. */
#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "reference.h"

struct digest_ctx
{
  EVP_MD_CTX *md;
};

digest_ctx *
digest_new (void)
{
  digest_ctx *d = xzalloc (sizeof *d);
  d->md = EVP_MD_CTX_new ();
  if (d->md == NULL || EVP_DigestInit_ex (d->md, EVP_sha256 (), NULL) != 1)
    abort ();
  return d;
}

void
digest_reset (digest_ctx *d)
{
  if (EVP_DigestInit_ex (d->md, EVP_sha256 (), NULL) != 1)
    abort ();
}

void
digest_update (digest_ctx *d, const void *buf, size_t len)
{
  if (len > 0 && EVP_DigestUpdate (d->md, buf, len) != 1)
    abort ();
}

void
digest_final (digest_ctx *d, char out[DIGEST_STRING_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hex[] = "0123456789abcdef";
  if (EVP_DigestFinal_ex (d->md, md, &n) != 1 || n != 32)
    abort ();
  memcpy (out, "sha256:", 7);
  for (unsigned int i = 0; i < n; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
  out[DIGEST_STRING_LEN] = '\0';
}

void
digest_free (digest_ctx *d)
{
  if (d == NULL)
    return;
  EVP_MD_CTX_free (d->md);
  free (d);
}

void
digest_cleanup (digest_ctx **d)
{
  digest_free (*d);
  *d = NULL;
}

void
digest_buffer (const void *buf, size_t len, char out[DIGEST_STRING_LEN + 1])
{
  digest_ctx *d = digest_new ();
  digest_update (d, buf, len);
  digest_final (d, out);
  digest_free (d);
}

int
digest_fd (int fd, char out[DIGEST_STRING_LEN + 1], uint64_t *size,
           polis_error **err)
{
  enum { BUF = 1 << 17 };
  char *buf = xmalloc (BUF);
  digest_ctx *d = digest_new ();
  uint64_t total = 0;
  int ret = 0;
  for (;;)
    {
      ssize_t r = read (fd, buf, BUF);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          ret = error_sys (err, "read");
          break;
        }
      if (r == 0)
        break;
      digest_update (d, buf, (size_t) r);
      total += (uint64_t) r;
    }
  if (ret == 0)
    digest_final (d, out);
  if (size)
    *size = total;
  digest_free (d);
  free (buf);
  return ret;
}

int
digest_validate (const char *s, polis_error **err)
{
  if (s == NULL || !image_reference_is_digest (s))
    return error_set (err, ERROR_INVALID, EINVAL,
                      "invalid digest `%.80s`: expected sha256:<64 hex digits>",
                      s ? s : "");
  return 0;
}

const char *
digest_hex (const char *s)
{
  return s + 7;
}
