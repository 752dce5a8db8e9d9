/* polis-nft - run an nftables script from stdin through libnftables.
 *
 * polisd is a static executable and libnftables exists only as a shared
 * library, so polisd hands its rule changes to this small dynamic helper
 * (as it hands registry work to polis-image): one short-lived process per
 * change, one atomic nftables transaction per script.  Errors go to
 * stderr, which polisd reads; exit status 0 on success.
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* polisd's scripts are a few kilobytes; anything larger is a bug. */
#define POLIS_NFT_SCRIPT_MAX (1 << 20)

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--version") == 0)
    {
      puts ("polis-nft (libnftables)");
      return 0;
    }
  char *buf = malloc (POLIS_NFT_SCRIPT_MAX + 1);
  if (buf == NULL)
    return 2;
  size_t n = fread (buf, 1, POLIS_NFT_SCRIPT_MAX + 1, stdin);
  if (n > POLIS_NFT_SCRIPT_MAX)
    {
      fputs ("polis-nft: script too large\n", stderr);
      return 2;
    }
  buf[n] = '\0';
  struct nft_ctx *ctx = nft_ctx_new (NFT_CTX_DEFAULT);
  if (ctx == NULL)
    {
      fputs ("polis-nft: cannot make an nftables context\n", stderr);
      return 2;
    }
  int r = nft_run_cmd_from_buffer (ctx, buf);
  nft_ctx_free (ctx);
  free (buf);
  return r == 0 ? 0 : 1;
}
