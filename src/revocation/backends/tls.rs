//! TLS for the shared stores (rustls with the ring provider, as for MongoDB): the trust roots a
//! URL's `ca_file=PATH` names (else the system's), and the adapter that lets tokio-postgres
//! speak TLS through rustls.
//!
//! The certificate is always verified, hostname included: `sslmode=require` with revbench is
//! libpq's `verify-full`, because a revocation list reached through an unverified peer is one
//! an attacker can answer "not revoked" for.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// The crypto provider every rustls user in this process shares.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process-wide default provider, for libraries that build their own rustls
/// configuration (the redis crate). rustls cannot pick one itself here because two providers
/// are compiled in (reqwest brings aws-lc-rs); a second call is a no-op.
pub(crate) fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The PEM certificates in `path`, as the bytes of the file (for the redis crate) after
/// checking it holds at least one.
pub(crate) fn read_ca_pem(path: &Path) -> Result<Vec<u8>, String> {
    let pem =
        std::fs::read(path).map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("ca_file {} is not PEM certificates: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("ca_file {} holds no PEM certificate", path.display()));
    }
    Ok(pem)
}

/// A client configuration trusting the certificates in `ca_file`, or the system's roots.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = read_ca_pem(path)?;
            for certificate in CertificateDer::pem_slice_iter(&pem) {
                let certificate = certificate.map_err(|e| e.to_string())?;
                roots.add(certificate).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err("no system CA certificates found; pass ca_file=PATH".to_string());
            }
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Whether a connection error is the peer's certificate being refused (rustls says "invalid
/// peer certificate: UnknownIssuer", "… NotValidForName", …), so the fix to name is the CA.
pub(crate) fn is_certificate_error(error: &str) -> bool {
    error.contains("invalid peer certificate")
}

/// tokio-postgres' TLS hook, backed by rustls.
#[derive(Debug, Clone)]
pub(crate) struct PostgresTls(pub Arc<ClientConfig>);

impl<S> MakeTlsConnect<S> for PostgresTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PostgresTlsStream<S>;
    type TlsConnect = PostgresTlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<PostgresTlsConnect, io::Error> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(PostgresTlsConnect { config: self.0.clone(), name })
    }
}

/// One handshake to one server name.
pub(crate) struct PostgresTlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for PostgresTlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PostgresTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PostgresTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move {
            let stream = connector.connect(self.name, stream).await?;
            Ok(PostgresTlsStream(stream))
        })
    }
}

/// A rustls stream tokio-postgres can use (the orphan rule needs the wrapper).
pub(crate) struct PostgresTlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for PostgresTlsStream<S> {
    // No channel binding: SCRAM then runs without it, as with libpq's default
    // `channel_binding=prefer` against a server that does not offer it.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PostgresTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PostgresTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA file that is missing, empty or not PEM is refused with its path in the message.
    #[test]
    fn bad_ca_files_are_named() {
        let missing = Path::new("/nonexistent/ca.pem");
        assert!(read_ca_pem(missing).unwrap_err().contains("/nonexistent/ca.pem"));
        let dir = std::env::temp_dir().join(format!("revbench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(read_ca_pem(&empty).unwrap_err().contains("no PEM certificate"));
        assert!(client_config(Some(&empty)).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
