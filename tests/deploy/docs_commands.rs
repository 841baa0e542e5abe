//! Every command the README and `docs/` give runs as written from a clone:
//! each `cargo test --test BINARY [MODULE]` names a test binary and module
//! that exist, each `cargo test --lib NAME` a unit test, each `make
//! TARGET` a Makefile target, and each link to a file of the repository
//! points at one.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every `docs/*.md`, with their text.
fn documents() -> Vec<(PathBuf, String)> {
    let mut docs = vec![root().join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs.into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a document");
            (p, text)
        })
        .collect()
}

/// Every Rust source file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out
}

/// The words after `prefix` up to the end of the command (a backtick, a
/// parenthesis or the end of the line).
fn commands<'a>(text: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let mut found = Vec::new();
    let flat = text.replace('\n', " ");
    let mut rest = flat.as_str();
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        let end = after
            .find(['`', '(', ')', ',', ';', '\''])
            .unwrap_or(after.len());
        let words: Vec<&str> = after[..end].split_whitespace().collect();
        // (A leak is fine: a few short strings in a test.)
        found.push(
            words
                .into_iter()
                .map(|w| &*Box::leak(w.to_owned().into_boxed_str()))
                .collect(),
        );
        rest = &after[end..];
    }
    found
}

#[test]
fn every_test_command_names_a_test_that_exists() {
    let lib = sources(&root().join("src")).join("\n");
    for (doc, text) in documents() {
        for words in commands(&text, "cargo test --test ") {
            let Some(&binary) = words.first() else {
                continue;
            };
            if binary.chars().any(|c| c.is_ascii_uppercase()) {
                continue; // a placeholder (`cargo test --test NAME`)
            }
            let main = root().join("tests").join(binary).join("main.rs");
            let main = std::fs::read_to_string(&main)
                .unwrap_or_else(|_| panic!("{}: no test binary {binary}", doc.display()));
            if let Some(&filter) = words.get(1).filter(|f| !f.starts_with('-')) {
                let all = sources(&root().join("tests").join(binary)).join("\n");
                assert!(
                    main.contains(&format!("mod {filter};")) || all.contains(filter),
                    "{}: cargo test --test {binary} {filter}: no such module or test",
                    doc.display()
                );
            }
        }
        for words in commands(&text, "cargo test --lib ") {
            if let Some(&name) = words
                .first()
                .filter(|n| !n.chars().any(|c| c.is_ascii_uppercase()))
            {
                let name = name.trim_end_matches("::");
                let last = name.rsplit("::").next().unwrap_or(name);
                assert!(
                    lib.contains(&format!("fn {last}")) || lib.contains(&format!("mod {last}")),
                    "{}: cargo test --lib {name}: no such unit test",
                    doc.display()
                );
            }
        }
    }
}

#[test]
fn every_make_target_exists() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).expect("Makefile");
    for (doc, text) in documents() {
        // Commands only: in backticks or at the start of a code line.
        let code: String = text
            .lines()
            .map(|l| {
                let t = l.trim_start().trim_start_matches("sudo ");
                if t.starts_with("make ") {
                    format!("`{t}`")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        for words in commands(&code, "`make ") {
            let Some(&target) = words.first() else {
                continue;
            };
            if !target.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                continue;
            }
            assert!(
                makefile.contains(&format!("\n{target}:")),
                "{}: make {target}: no such target",
                doc.display()
            );
        }
    }
}

#[test]
fn every_link_to_a_file_points_at_one() {
    for (doc, text) in documents() {
        let dir = doc.parent().expect("a directory");
        for part in text.split("](").skip(1) {
            let Some(end) = part.find(')') else { continue };
            let target = &part[..end];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or(target);
            assert!(
                dir.join(path).exists(),
                "{}: link to {target}: no such file",
                doc.display()
            );
        }
    }
}
