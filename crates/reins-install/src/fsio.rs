//! The only code that writes to disk: backups, atomic replace, delete.
//!
//! Writes go to a temp file in the same directory followed by `rename`, so
//! an agent reading its config live never sees half a file. If the config is
//! a symlink (dotfile managers), the link's target is written and the link
//! is kept. This module deliberately has no knowledge of config formats.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::InstallError;

/// Suffix before the timestamp of a backup file.
pub(crate) const BACKUP_SUFFIX: &str = ".reins-backup-";

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> InstallError + '_ {
    move |source| InstallError::Write {
        path: path.to_owned(),
        source,
    }
}

/// `SystemTime` as UTC `yyyymmddThhmmss` (no external date crate needed).
pub(crate) fn utc_stamp(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-since-epoch → proleptic Gregorian date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The file actually holding the contents: follows a symlink at `path`.
fn real_target(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

/// Copy `path` to `<path>.reins-backup-<stamp>` (adding `-2`, `-3`, ... if
/// that name is taken) and return the backup's path.
pub(crate) fn backup(path: &Path, stamp: &str) -> Result<PathBuf, InstallError> {
    let base = format!("{}{BACKUP_SUFFIX}{stamp}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    fs::copy(path, &candidate).map_err(write_err(&candidate))?;
    Ok(candidate)
}

/// Replace `path` with `text` atomically, keeping its permission bits.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<(), InstallError> {
    let target = real_target(path);
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(write_err(dir))?;
    let old_perms = fs::metadata(&target).ok().map(|m| m.permissions());
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.reins-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        if let Some(perms) = old_perms {
            f.set_permissions(perms)?;
        }
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(write_err(&target))
}

/// Delete a file Reins owns entirely (only used for Copilot's `reins.json`).
pub(crate) fn remove(path: &Path) -> Result<(), InstallError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(write_err(path)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_compact_iso8601() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // 2024-02-29 12:34:56Z
        assert_eq!(utc_stamp(t), "20240229T123456");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799); // 2099-12-31 23:59:59Z
        assert_eq!(utc_stamp(t), "20991231T235959");
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_the_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        fs::write(&p, "{}").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&p, "{\"a\":1}").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\"a\":1}");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[cfg(unix)]
    #[test]
    fn writing_through_a_symlink_updates_the_target_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-settings.json");
        let link = dir.path().join("settings.json");
        fs::write(&real, "{}").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, "new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn a_second_backup_in_the_same_second_gets_a_numbered_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        fs::write(&p, "x").unwrap();
        let a = backup(&p, "20240101T000000").unwrap();
        let b = backup(&p, "20240101T000000").unwrap();
        assert!(
            a.to_string_lossy()
                .ends_with("c.json.reins-backup-20240101T000000")
        );
        assert!(
            b.to_string_lossy()
                .ends_with("c.json.reins-backup-20240101T000000-2")
        );
    }
}
