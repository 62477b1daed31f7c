//! Running the real `translate` binary in a scratch directory, and reading what it
//! wrote through strict types.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde::Deserialize;

/// The repository's `seeds/` directory.
pub fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

/// The five seed file names.
pub fn seed_names() -> Vec<String> {
    let mut v: Vec<String> = fs_err::read_dir(seeds())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    v.sort();
    v
}

/// One JSONL row, strictly.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRow {
    pub doc: String,
    pub index: usize,
    pub kind: String,
    pub src_lang: String,
    pub tgt_lang: String,
    pub source: String,
    pub target: Option<String>,
    pub provider: String,
    pub cached: bool,
    pub flags: Vec<String>,
    pub sentences: Vec<Pair>,
}

/// One aligned sentence pair of a JSONL row, strictly.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    pub source: String,
    pub target: String,
}

/// A scratch directory with an output dir, a cache dir and a fast test config.
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub config: PathBuf,
}

impl Scratch {
    /// Test config: the shipped file with short retry delays and timeouts, a high rate
    /// and `max_texts` for LibreTranslate set to `lt_batch`.
    pub fn new() -> Scratch {
        Scratch::with_config(|c| c)
    }

    /// Like [`Scratch::new`] with a further edit of the config text.
    pub fn with_config(edit: impl Fn(String) -> String) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let shipped = fs_err::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/translate.toml"),
        )
        .unwrap();
        let fast = shipped
            .replace("retry_base_ms = 1000", "retry_base_ms = 10")
            .replace("retry_max_ms = 60000", "retry_max_ms = 3000")
            .replace("retry_max_ms = 120000", "retry_max_ms = 3000")
            .replace("retry_max_ms = 30000", "retry_max_ms = 3000")
            .replace("retry_base_ms = 500", "retry_base_ms = 10")
            .replace("rps = 1.0", "rps = 500.0")
            .replace("rps = 10.0", "rps = 500.0")
            .replace("rps = 20.0", "rps = 500.0")
            .replace("timeout_secs = 60.0", "timeout_secs = 3.0")
            .replace("timeout_secs = 30.0", "timeout_secs = 3.0")
            .replace("timeout_secs = 120.0", "timeout_secs = 3.0")
            .replace("connect_timeout_secs = 5.0", "connect_timeout_secs = 1.0")
            .replace("rps = 2.0", "rps = 500.0")
            .replace("rps = 5.0", "rps = 500.0")
            .replace("burst = 2\n", "burst = 50\n")
            .replace("burst = 5\n", "burst = 50\n");
        let config = dir.path().join("test.toml");
        fs_err::write(&config, edit(fast)).unwrap();
        let out = dir.path().join("out");
        let cache = dir.path().join("cache");
        Scratch {
            out,
            cache,
            config,
            dir,
        }
    }

    /// `translate <inputs> --to en --out … --cache-dir … --config …`, with no key in
    /// the environment and the keyring off.
    pub fn std_cmd(&self, inputs: &[&Path]) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("translate"));
        c.env("TARJAMA_NO_KEYRING", "1")
            .env_remove("LIBRETRANSLATE_API_KEY")
            .env_remove("MYMEMORY_KEY")
            .env_remove("DEEPL_AUTH_KEY")
            .env_remove("GOOGLE_API_KEY")
            .env_remove("AZURE_TRANSLATOR_KEY")
            .env_remove("OPENAI_API_KEY")
            .args(inputs)
            .args(["--to", "en", "--out"])
            .arg(&self.out)
            .arg("--cache-dir")
            .arg(&self.cache)
            .arg("--config")
            .arg(&self.config);
        c
    }

    /// [`Scratch::std_cmd`] as an `assert_cmd` command with a time limit.
    pub fn cmd(&self, inputs: &[&Path]) -> Command {
        let mut c = Command::from_std(self.std_cmd(inputs));
        c.timeout(std::time::Duration::from_secs(120));
        c
    }

    /// Rows of `<out>/<stem>.en.jsonl` for input `rel`.
    pub fn jsonl(&self, rel: &str) -> Vec<JsonRow> {
        self.jsonl_text(rel)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Raw text of a JSONL output.
    pub fn jsonl_text(&self, rel: &str) -> String {
        fs_err::read_to_string(self.output(rel, "jsonl")).unwrap()
    }

    /// Path of an output for input `rel`.
    pub fn output(&self, rel: &str, ext: &str) -> PathBuf {
        let stem = rel.rsplit_once('.').map_or(rel, |(s, _)| s);
        self.out.join(format!("{stem}.en.{ext}"))
    }

    /// `report.json`.
    pub fn report(&self) -> tarjama::model::RunReport {
        serde_json::from_str(&fs_err::read_to_string(self.out.join("report.json")).unwrap())
            .unwrap()
    }

    /// All rows of all seed outputs.
    pub fn all_rows(&self) -> Vec<JsonRow> {
        seed_names().iter().flat_map(|n| self.jsonl(n)).collect()
    }
}
