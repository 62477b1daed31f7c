//! The command line's contract: usage text, config errors, exit code 2, and the
//! `auth` and `providers` subcommands.

use crate::common;

use assert_cmd::Command;
use common::emulator::{Api, Emulator};
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

/// Every long flag `translate --help` prints has its entry in the user guide's flag
/// table (a row starting with the flag), so a new flag cannot go undocumented.
#[test]
fn every_flag_of_help_is_in_the_guide() {
    let help = translate().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let guide =
        fs_err::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/guide.md")).unwrap();
    let start = guide
        .find("\n## Flags\n")
        .expect("a Flags section in docs/guide.md");
    let table: Vec<&str> = guide[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| w.trim_end_matches([',', '.']))
        .collect();
    assert!(
        flags.len() >= 10,
        "too few flags parsed from --help: {flags:?}"
    );
    for flag in flags {
        let first_cell = |row: &&str| row.split('|').nth(1).unwrap_or("").to_owned();
        assert!(
            table.iter().map(first_cell).any(|cell| cell
                .split('`')
                .any(|w| w == flag || w.starts_with(&format!("{flag} ")))),
            "`{flag}` (in `translate --help`) has no row in docs/guide.md's flag table"
        );
    }
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

const KEY: &str = "sk-cli-TOPSECRET-5678";

#[test]
fn auth_show_names_the_source_and_the_last_four_characters_only() {
    let out = translate()
        .args(["auth", "show", "libretranslate"])
        .env("LIBRETRANSLATE_API_KEY", KEY)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("environment variable LIBRETRANSLATE_API_KEY") && text.contains("…5678"),
        "{text}"
    );
    assert!(!text.contains("TOPSECRET"), "{text}");
    translate()
        .args(["auth", "show", "deepl"])
        .env_remove("DEEPL_AUTH_KEY")
        .assert()
        .code(3)
        .stdout(
            predicate::str::contains("no key")
                .and(predicate::str::contains("translate auth set deepl")),
        );
    translate().args(["auth", "show", "nope"]).assert().code(2);
}

#[test]
fn auth_set_with_the_keyring_switched_off_says_so() {
    translate()
        .args(["auth", "set", "deepl"])
        .write_stdin(format!("{KEY}\n"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("keyring is switched off")
                .and(predicate::str::contains(KEY).not()),
        );
}

#[test]
fn providers_lists_every_kind_without_any_key() {
    let out = translate()
        .arg("providers")
        .env("DEEPL_AUTH_KEY", KEY)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for name in [
        "mymemory",
        "libretranslate",
        "deepl",
        "google",
        "azure",
        "apertium",
        "openai",
        "edge",
        "google-web",
    ] {
        assert!(
            text.contains(&format!("\n  kind:      {name}\n")),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("$DEEPL_AUTH_KEY (set)"));
    assert!(text.contains("mymemory (default)"));
    assert!(!text.contains("TOPSECRET"));
}

#[test]
fn providers_check_reports_reachability() {
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    let shipped = fs_err::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/translate.toml"
    ))
    .unwrap();
    fs_err::write(&cfg, shipped.replace("http://127.0.0.1:5000", &emu.url())).unwrap();
    translate()
        .args(["providers", "--check", "libretranslate", "--config"])
        .arg(&cfg)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("libretranslate: ok")
                .and(predicate::str::contains("language pairs")),
        );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fs_err::write(
        &cfg,
        shipped.replace("http://127.0.0.1:5000", &format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    translate()
        .args(["providers", "--config"])
        .arg(&cfg)
        .args(["--check", "libretranslate"])
        .assert()
        .code(3)
        .stdout(
            predicate::str::contains("libretranslate: FAILED")
                .and(predicate::str::contains("cannot reach")),
        );
}
