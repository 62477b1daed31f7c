//! The command line's contract: usage text, config errors, exit code 2.

use assert_cmd::Command;
use predicates::prelude::*;

fn translate() -> Command {
    let mut c = Command::cargo_bin("translate").unwrap();
    c.env("TARJAMA_NO_KEYRING", "1");
    c
}

#[test]
fn readme_usage_block_equals_help() {
    let help = translate().arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let readme = fs_err::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- usage:start")
        .expect("usage block in README");
    let block = &readme[start..];
    let body_start = block.find("```text\n").unwrap() + "```text\n".len();
    let body_end = block.find("```\n<!-- usage:end").unwrap();
    assert_eq!(
        block[body_start..body_end].trim_end(),
        help.trim_end(),
        "README usage block differs from `translate --help`"
    );
}

#[test]
fn missing_to_is_a_usage_error() {
    translate()
        .arg("seeds/")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--to"));
}

#[test]
fn unknown_provider_and_format_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    translate()
        .args(["seeds/", "--to", "en", "--provider", "nope", "--cache-dir"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown provider `nope`"));
    translate()
        .args([
            "seeds/",
            "--to",
            "en",
            "--format",
            "html,pdf",
            "--cache-dir",
        ])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pdf"));
}

#[test]
fn bad_config_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    let shipped = fs_err::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/translate.toml"
    ))
    .unwrap();
    let bad = shipped.replacen("rps = 2.0", "rsp = 2.0", 1);
    let line = bad.lines().position(|l| l.starts_with("rsp")).unwrap() + 1;
    fs_err::write(&cfg, bad).unwrap();
    translate()
        .args(["seeds/", "--to", "en", "--config"])
        .arg(&cfg)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "bad.toml: line {line}, column 1: unknown field `rsp`"
        )));
}

#[test]
fn missing_config_file_is_a_usage_error() {
    translate()
        .args(["seeds/", "--to", "en", "--config", "/nonexistent/t.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/t.toml"));
}
