//! HTTPS for the web server: a rustls server config from a PEM certificate
//! chain and a PEM private key (`phone.tls_cert`, `phone.tls_key`).
//!
//! Uses the crypto provider the rest of the workspace's rustls already uses
//! (aws-lc-rs), explicitly, so no process-wide default is needed. This
//! module does not make or renew certificates, and asks for no client
//! certificates.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The certificate chain and key to serve HTTPS with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why HTTPS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read {key} {path}: {source}; check the path and its permissions")]
    Read {
        /// The config key naming the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error(
        "{0} (phone.tls_cert) holds no PEM certificate; point it at the certificate chain (e.g. fullchain.pem)"
    )]
    NoCert(PathBuf),
    /// The key file holds no key.
    #[error(
        "{0} (phone.tls_key) holds no PEM private key; point it at the key of phone.tls_cert (e.g. privkey.pem)"
    )]
    NoKey(PathBuf),
    /// rustls refused the pair.
    #[error(
        "the certificate and key do not make a TLS configuration: {0}; check that phone.tls_key is the key of phone.tls_cert"
    )]
    Rejected(#[from] rustls::Error),
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.to_owned(),
        source,
    })
}

/// A TLS acceptor for `files` (HTTP/1.1 only, by ALPN).
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = read("phone.tls_cert", &files.cert)?;
    let key_pem = read("phone.tls_key", &files.key)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .map_err(|source| TlsError::Read {
            key: "phone.tls_cert",
            path: files.cert.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCert(files.cert.clone()));
    }
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|source| TlsError::Read {
            key: "phone.tls_key",
            path: files.key.clone(),
            source,
        })?
        .ok_or_else(|| TlsError::NoKey(files.key.clone()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
