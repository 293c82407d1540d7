//! Embeds the phone app: walks `<workspace>/mobile-bridge/dist/` and writes
//! `$OUT_DIR/bundle.rs`, a static table of (path, bytes, content type,
//! strong ETag). The built app is committed, so this needs no npm or Node.
//! A missing `dist/` gives an empty table and a warning, not a failed build.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/mime.rs"]
mod mime;

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            walk(root, &path, out);
        } else if ft.is_file() {
            let rel = path.strip_prefix(root).expect("under root");
            let Some(rel) = rel.to_str() else {
                println!("cargo:warning=skipping {}: not UTF-8", path.display());
                continue;
            };
            let rel = rel.replace('\\', "/");
            let ok = rel.split('/').all(|s| {
                !s.is_empty()
                    && !s.starts_with('.')
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~@+".contains(&b))
            });
            if !ok {
                println!(
                    "cargo:warning=skipping {rel}: the server only serves names of A-Z a-z 0-9 - _ . ~ @ +"
                );
                continue;
            }
            println!("cargo:rerun-if-changed={}", path.display());
            out.push((rel, path));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = manifest.join("../../mobile-bridge/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.is_dir() {
        let root = dist.canonicalize().expect("dist canonicalizes");
        walk(&root, &root, &mut files);
    } else {
        println!(
            "cargo:warning={} is missing: the phone app is not embedded (build mobile-bridge, or set phone.app_dir)",
            dist.display()
        );
    }
    files.sort();
    let mut code = String::from(
        "/// The embedded files, sorted by path.\npub static FILES: &[Embedded] = &[\n",
    );
    for (rel, path) in &files {
        let bytes = std::fs::read(path).expect("read an app file");
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
        writeln!(
            code,
            "    Embedded {{ path: {rel:?}, bytes: include_bytes!({:?}), content_type: {:?}, etag: {etag:?} }},",
            path.display().to_string(),
            mime::content_type(rel),
        )
        .expect("write to a string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("bundle.rs");
    std::fs::write(out, code).expect("write bundle.rs");
}
