//! The teacher key file, `DIR/teacher.key`: read, or made once. Run at
//! start-up by whoever starts the server; owns only that file.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::SysRng;
use rand::TryRng as _;

use super::StoreError;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "teacher.key";

/// The shortest key accepted from the file: 16 characters.
pub const KEY_MIN: usize = 16;

/// A new teacher key, kept nowhere: 128 random bits from the operating
/// system as 22 characters of base64url without padding.
///
/// # Errors
/// The operating system gives no random bits.
pub fn new_teacher_key() -> Result<String, StoreError> {
    let mut bits = [0u8; 16];
    SysRng
        .try_fill_bytes(&mut bits)
        .map_err(|e| StoreError(format!("no random bits from the operating system: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bits))
}

/// The teacher key: the first line of `dir/teacher.key`, or, if there is
/// no such file, a new key written there: 128 random bits from the
/// operating system, as 22 characters of base64url without padding, in a
/// file of mode 0600 (and `dir` made, mode 0700, if missing). So it is the
/// same on every call and across restarts until the file is deleted. A
/// teacher may write a key of their own in the file (at least 16
/// characters, no spaces). A key file others can read is logged.
///
/// # Errors
/// Naming the path: the file cannot be read or written, holds no usable
/// key, or the operating system gives no random bits.
pub fn teacher_key(dir: &Path) -> Result<String, StoreError> {
    let path = dir.join(KEY_FILE);
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError(format!("{}: {what}: {e}", path.display()))
    };
    match fs::read_to_string(&path) {
        Ok(text) => {
            let key = text.lines().next().unwrap_or("").trim();
            if key.len() < KEY_MIN || key.contains(char::is_whitespace) {
                return Err(StoreError(format!(
                    "{}: no usable teacher key in it (at least {KEY_MIN} characters, no spaces): fix it or delete it to get a new one",
                    path.display()
                )));
            }
            if let Ok(meta) = fs::metadata(&path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    log::warn!(
                        "{}: others may read the teacher key (chmod 600 it)",
                        path.display()
                    );
                }
            }
            return Ok(key.to_owned());
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(fail("cannot read it", &e)),
    }
    let key = new_teacher_key().map_err(|e| fail("cannot make one", &e))?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| fail("cannot create its directory", &e))?;
    // Written whole under another name, then renamed: a crash leaves no
    // half key.
    let partial = dir.join(format!("{KEY_FILE}.{}.new", std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .and_then(|mut file| {
            file.write_all(format!("{key}\n").as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&partial, &path));
    if let Err(e) = written {
        let _ = fs::remove_file(&partial);
        return Err(fail("cannot write it", &e));
    }
    Ok(key)
}
