//! `make install` puts a working binary in
//! `$(PREFIX)/bin`, `/usr/local/bin` unless told otherwise. The release build
//! it depends on is skipped here (`make -o build`): the test installs the
//! binary cargo built for the tests.

use testkit::*;

use std::path::Path;
use std::process::Command;

fn make(args: &[&str]) -> (bool, String) {
    // Run from `make test`, the outer make's jobserver and level would leak in.
    let out = Command::new("make")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .arg("--no-print-directory")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run make");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn make_install_honours_prefix() {
    if !have_program("make", "to run the Makefile's install target") {
        return;
    }
    let prefix = std::env::temp_dir().join(format!("chat-server-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let prefix_arg = format!("PREFIX={}", prefix.display());
    let binary_arg = format!("BINARY={}", env!("CARGO_BIN_EXE_chat-server"));
    let (ok, out) = make(&["-o", "build", "install", &prefix_arg, &binary_arg]);
    assert!(ok, "make install failed: {out}");

    let installed = prefix.join("bin/chat-server");
    let version = Command::new(&installed)
        .arg("--version")
        .output()
        .expect("run installed binary");
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("chat-server "));

    let (ok, out) = make(&["-o", "build", "uninstall", &prefix_arg]);
    assert!(ok, "make uninstall failed: {out}");
    assert!(
        !installed.exists(),
        "uninstall left {}",
        installed.display()
    );
    let _ = std::fs::remove_dir_all(&prefix);
}

#[test]
fn the_default_prefix_is_usr_local() {
    if !have_program("make", "to run the Makefile's install target") {
        return;
    }
    // -n: print the commands only.
    let (ok, out) = make(&["-n", "-o", "build", "install", "DESTDIR="]);
    assert!(ok, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("install ") && l.ends_with(" /usr/local/bin/chat-server")),
        "{out}"
    );
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib/chat-server.service")
        .is_file());
}
