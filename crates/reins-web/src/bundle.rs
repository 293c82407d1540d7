//! Where the app's files come from: the table `build.rs` embedded at compile
//! time (the default), or a directory on disk (`phone.app_dir`, for
//! development).
//!
//! A directory is canonicalized once; every lookup canonicalizes the file
//! and refuses anything whose real path leaves it (a symlink pointing
//! outside included), anything that is not a regular file, and files over
//! [`MAX_FILE_BYTES`]. Names reach this module already checked by
//! [`crate::path::resolve`]. Not here: HTTP (see [`crate::server`]).

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One file compiled into the binary.
#[derive(Debug)]
pub struct Embedded {
    /// Bundle-relative name, `/`-separated (`assets/app-1a2b.js`).
    pub path: &'static str,
    /// The file.
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// A strong ETag (quoted) from the content's SHA-256.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/bundle.rs"));

/// Largest file served from `app_dir` (a built app's biggest chunk is far
/// smaller; this bounds what one request reads into memory).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A file to send.
#[derive(Clone, Debug)]
pub struct File {
    /// Contents.
    pub bytes: Bytes,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Strong ETag, quoted.
    pub etag: String,
}

/// The app's files.
#[derive(Clone, Debug)]
pub enum Source {
    /// Compiled in by `build.rs`.
    Embedded,
    /// A directory on disk (canonical path).
    Dir(PathBuf),
}

impl Source {
    /// `dir` as a source (canonicalized), or the I/O error.
    pub fn dir(dir: &Path) -> std::io::Result<Self> {
        let root = dir.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Source::Dir(root))
    }

    /// The file named `rel` (already checked by `path::resolve`), if any.
    pub async fn get(&self, rel: &str) -> Option<File> {
        match self {
            Source::Embedded => embedded(rel).map(|e| File {
                bytes: Bytes::from_static(e.bytes),
                content_type: e.content_type,
                etag: e.etag.to_owned(),
            }),
            Source::Dir(root) => {
                let (root, rel) = (root.clone(), rel.to_owned());
                tokio::task::spawn_blocking(move || from_dir(&root, &rel))
                    .await
                    .ok()
                    .flatten()
            }
        }
    }
}

/// The embedded file `rel`, if any.
pub fn embedded(rel: &str) -> Option<&'static Embedded> {
    FILES
        .binary_search_by(|e| e.path.cmp(rel))
        .ok()
        .map(|i| &FILES[i])
}

fn from_dir(root: &Path, rel: &str) -> Option<File> {
    let real = root.join(rel).canonicalize().ok()?;
    if !real.starts_with(root) {
        tracing::warn!(path = %real.display(), "refused a file outside phone.app_dir");
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let bytes = std::fs::read(&real).ok()?;
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    Some(File {
        bytes: Bytes::from(bytes),
        content_type: crate::mime::content_type(rel),
        etag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_is_sorted_so_lookups_find_every_file() {
        for e in FILES {
            assert_eq!(embedded(e.path).map(|f| f.path), Some(e.path));
        }
        assert!(FILES.windows(2).all(|w| w[0].path < w[1].path));
    }

    #[tokio::test]
    async fn a_directory_serves_its_files_and_not_its_subdirectories() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("assets")).unwrap();
        std::fs::write(d.path().join("assets/a.js"), "x").unwrap();
        let s = Source::dir(d.path()).unwrap();
        let f = s.get("assets/a.js").await.unwrap();
        assert_eq!(&f.bytes[..], b"x");
        assert_eq!(f.content_type, "text/javascript; charset=utf-8");
        assert!(s.get("assets").await.is_none());
        assert!(s.get("missing.js").await.is_none());
    }

    #[tokio::test]
    async fn a_symlink_leaving_the_directory_is_refused_and_one_inside_is_served() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("real.txt"), "ok").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), d.path().join("leak.txt"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("out")).unwrap();
        std::os::unix::fs::symlink(d.path().join("real.txt"), d.path().join("alias.txt")).unwrap();
        let s = Source::dir(d.path()).unwrap();
        assert!(s.get("leak.txt").await.is_none());
        assert!(s.get("out/secret.txt").await.is_none());
        assert_eq!(&s.get("alias.txt").await.unwrap().bytes[..], b"ok");
    }
}
