/* mhd_notls.c - libmicrohttpd without TLS.
 *
 * Debian's libmicrohttpd is built with GnuTLS.  polisd never enables TLS
 * (it listens on a unix socket), yet linking the library dynamically maps
 * GnuTLS and its eight dependencies into the daemon: about 2.6 MB of
 * resident memory, more than half of the idle-RSS budget (4 MB).  So the
 * static archive is linked, and the GnuTLS symbols it refers to resolve
 * here: global init/deinit (which MHD calls from its constructor) succeed
 * and do nothing; everything else is only reached with MHD_USE_TLS, which
 * polisd never passes, and aborts if it ever were.
 * Hidden visibility: never interpose on a real GnuTLS a library might load.
 */
#include <stdlib.h>

#define NOTLS __attribute__ ((visibility ("hidden")))
#define STUB(name)                                                             \
  NOTLS void name (void);                                                      \
  NOTLS void name (void) { abort (); }

NOTLS int gnutls_global_init (void);
NOTLS int
gnutls_global_init (void)
{
  return 0;
}

NOTLS void gnutls_global_deinit (void);
NOTLS void
gnutls_global_deinit (void)
{
}

NOTLS void *(*gnutls_malloc) (size_t) = malloc;

STUB (gnutls_alpn_set_protocols)
STUB (gnutls_bye)
STUB (gnutls_certificate_allocate_credentials)
STUB (gnutls_certificate_free_credentials)
STUB (gnutls_certificate_server_set_request)
STUB (gnutls_certificate_set_dh_params)
STUB (gnutls_certificate_set_retrieve_function2)
STUB (gnutls_certificate_set_retrieve_function3)
STUB (gnutls_certificate_set_x509_key_mem)
STUB (gnutls_certificate_set_x509_key_mem2)
STUB (gnutls_certificate_set_x509_trust_mem)
STUB (gnutls_cipher_get)
STUB (gnutls_credentials_set)
STUB (gnutls_deinit)
STUB (gnutls_dh_params_deinit)
STUB (gnutls_dh_params_import_pkcs3)
STUB (gnutls_dh_params_init)
STUB (gnutls_handshake)
STUB (gnutls_init)
STUB (gnutls_priority_deinit)
STUB (gnutls_priority_init)
STUB (gnutls_priority_set)
STUB (gnutls_protocol_get_version)
STUB (gnutls_psk_allocate_server_credentials)
STUB (gnutls_psk_free_server_credentials)
STUB (gnutls_psk_set_server_credentials_function)
STUB (gnutls_record_check_pending)
STUB (gnutls_record_get_direction)
STUB (gnutls_record_recv)
STUB (gnutls_record_send)
STUB (gnutls_session_get_ptr)
STUB (gnutls_session_set_ptr)
STUB (gnutls_strerror)
STUB (gnutls_transport_set_int2)
