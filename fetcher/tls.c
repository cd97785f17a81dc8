/* tls.c — verification of the IMAP server's certificate with GnuTLS.
 *
 * libetpan completes the TLS handshake without looking at the certificate;
 * fetcher.c hands us the peer chain (DER) right after the handshake, before
 * a single byte of IMAP (let alone a password) is exchanged.  We check the
 * chain against the trust anchors (the system store, or only CA_FILE when
 * the configuration names one), the TLS-server purpose, and the host name:
 * a DNS name against the DNS names of the certificate (wildcards per RFC
 * 6125), an IP address only against its IP addresses.
 */
#include "fetcher/fetcher-internal.h"

#include <arpa/inet.h>
#include <gnutls/x509.h>

gboolean
fetcher_host_is_ip(const char *host)
{
	guchar addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Why STATUS (gnutls_certificate_status_t bits) refused the chain: the
 * most telling reason first, as a few words. */
static const char *
status_reason(unsigned status)
{
	static const struct {
		unsigned bit;
		const char *reason;
	} reasons[] = {
	    {GNUTLS_CERT_REVOKED, "revoked"},
	    {GNUTLS_CERT_EXPIRED, "expired"},
	    {GNUTLS_CERT_NOT_ACTIVATED, "not yet valid"},
	    {GNUTLS_CERT_SIGNER_NOT_FOUND, "signer not found"},
	    {GNUTLS_CERT_SIGNER_NOT_CA, "signer is not a CA"},
	    {GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "signer constraints violated"},
	    {GNUTLS_CERT_INSECURE_ALGORITHM, "insecure signature algorithm"},
	    {GNUTLS_CERT_SIGNATURE_FAILURE, "bad signature"},
	    {GNUTLS_CERT_PURPOSE_MISMATCH, "not issued for TLS servers"},
	    {GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, "unknown critical extension"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(reasons); i++)
		if (status & reasons[i].bit)
			return reasons[i].reason;
	return "invalid";
}

static gboolean
load_trust(gnutls_x509_trust_list_t trust, const char *ca_file, GError **error)
{
	int n;

	if (ca_file != NULL) {
		n = gnutls_x509_trust_list_add_trust_file(trust, ca_file, NULL, GNUTLS_X509_FMT_PEM,
		                                          0, 0);
		if (n <= 0) {
			g_set_error(error, FETCHER_ERROR, PI_ERROR_FATAL, "ca_file %s: %s", ca_file,
			            n < 0 ? gnutls_strerror(n) : "no certificate in it");
			return FALSE;
		}
		return TRUE;
	}
	n = gnutls_x509_trust_list_add_system_trust(trust, 0, 0);
	if (n <= 0) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_TLS,
		            "cannot load the system trust store: %s",
		            n < 0 ? gnutls_strerror(n) : "it is empty (set ca_file)");
		return FALSE;
	}
	return TRUE;
}

static gboolean
host_matches(gnutls_x509_crt_t leaf, const char *host)
{
	guchar addr[16];

	if (inet_pton(AF_INET, host, addr) == 1)
		return gnutls_x509_crt_check_ip(leaf, addr, 4, 0) != 0;
	if (inet_pton(AF_INET6, host, addr) == 1)
		return gnutls_x509_crt_check_ip(leaf, addr, 16, 0) != 0;
	return gnutls_x509_crt_check_hostname2(leaf, host, GNUTLS_VERIFY_DO_NOT_ALLOW_IP_MATCHES) !=
	       0;
}

gboolean
fetcher_tls_verify(const gnutls_datum_t *certs, guint n, const char *host, const char *ca_file,
                   GError **error)
{
	gnutls_x509_trust_list_t trust = NULL;
	gnutls_x509_crt_t *chain = NULL;
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
	                                 (unsigned char *)(gsize)GNUTLS_KP_TLS_WWW_SERVER, 0};
	unsigned status = 0;
	guint parsed = 0;
	gboolean ok = FALSE;
	int r;

	if (n == 0) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_TLS, "server sent no certificate");
		return FALSE;
	}
	chain = g_new0(gnutls_x509_crt_t, n);
	for (; parsed < n; parsed++) {
		if ((r = gnutls_x509_crt_init(&chain[parsed])) < 0 ||
		    (r = gnutls_x509_crt_import(chain[parsed], &certs[parsed],
		                                GNUTLS_X509_FMT_DER)) < 0) {
			g_set_error(error, FETCHER_ERROR, PI_ERROR_TLS,
			            "cannot read the server's certificate: %s", gnutls_strerror(r));
			if (chain[parsed] != NULL)
				parsed++; /* so it is freed below */
			goto out;
		}
	}
	if ((r = gnutls_x509_trust_list_init(&trust, 0)) < 0) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_FATAL, "GnuTLS: %s", gnutls_strerror(r));
		goto out;
	}
	if (!load_trust(trust, ca_file, error))
		goto out;
	r = gnutls_x509_trust_list_verify_crt2(trust, chain, n, &purpose, 1, 0, &status, NULL);
	if (r < 0) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_TLS, "cannot verify the certificate: %s",
		            gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_TLS, "certificate not trusted (%s)",
		            status_reason(status));
		goto out;
	}
	if (!host_matches(chain[0], host)) {
		g_set_error(error, FETCHER_ERROR, PI_ERROR_TLS,
		            "certificate does not match host name %s", host);
		goto out;
	}
	ok = TRUE;
out:
	for (guint i = 0; i < parsed; i++)
		gnutls_x509_crt_deinit(chain[i]);
	g_free(chain);
	if (trust != NULL)
		gnutls_x509_trust_list_deinit(trust, 1);
	return ok;
}
