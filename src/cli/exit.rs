//! The exit codes, in one type, and how a fatal error is shown.
//!
//! 0 every content paragraph translated; 3 finished but some content untranslated or
//! some input unusable (all outputs still written); 2 usage or config error; 1 any
//! other fatal error. Scripts and CI depend on these numbers: they do not change.
//!
//! A fatal error is printed the way uv prints one: `error: ` and what failed, then one
//! `  Caused by: ` line per cause under it (walking
//! [`source`](std::error::Error::source)), then `hint: ` and what to do about it.

use std::io::Write;

use crate::error::{self, Error};

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: every content paragraph translated (or the subcommand did its job).
    Success,
    /// 1: any other fatal error.
    Failure,
    /// 2: usage or config error.
    Usage,
    /// 3: finished, but some content is untranslated or some input was unusable.
    Incomplete,
}

impl ExitStatus {
    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Incomplete => 3,
        }
    }

    /// The status a fatal error ends the process with.
    #[must_use]
    pub fn of(e: &Error) -> ExitStatus {
        if e.is_usage() {
            ExitStatus::Usage
        } else {
            ExitStatus::Failure
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> std::process::ExitCode {
        std::process::ExitCode::from(s.code())
    }
}

/// `e` as printed: the `error:` line, its causes, its hint.
#[must_use]
pub(crate) fn render(e: &Error) -> String {
    let mut out = format!("error: {e}\n");
    for cause in error::causes(e) {
        out.push_str(&format!("  Caused by: {cause}\n"));
    }
    if let Some(hint) = e.hint() {
        out.push_str(&format!("hint: {hint}\n"));
    }
    out
}

/// Print `e` on stderr and return its exit status.
pub(crate) fn report(e: &Error) -> ExitStatus {
    let _ = std::io::stderr().lock().write_all(render(e).as_bytes());
    ExitStatus::of(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_numbers() {
        let codes: Vec<u8> = [
            ExitStatus::Success,
            ExitStatus::Failure,
            ExitStatus::Usage,
            ExitStatus::Incomplete,
        ]
        .map(ExitStatus::code)
        .to_vec();
        assert_eq!(codes, [0, 1, 2, 3]);
    }

    #[test]
    fn an_error_prints_its_causes_then_its_hint() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device");
        let e = Error::Cache {
            path: "cache/v1/translations.sqlite".into(),
            what: "the disk is full".into(),
            source: Some(Box::new(io)),
            hint: Some("free some space, then rerun".into()),
        };
        assert_eq!(
            render(&e),
            "error: cache cache/v1/translations.sqlite: the disk is full\n\
             \x20 Caused by: No space left on device\n\
             hint: free some space, then rerun\n"
        );
        assert_eq!(ExitStatus::of(&e), ExitStatus::Failure);
        assert_eq!(ExitStatus::of(&Error::Usage("x".into())), ExitStatus::Usage);
    }

    #[test]
    fn a_hint_keeps_the_message_the_causes_and_the_exit_status() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = Error::Config {
            path: "t.toml".into(),
            what: "cannot read config".into(),
            source: Some(Box::new(io)),
        }
        .with_hint("give another --config");
        assert_eq!(
            render(&e),
            "error: t.toml: cannot read config\n\
             \x20 Caused by: No such file or directory\n\
             hint: give another --config\n"
        );
        assert_eq!(ExitStatus::of(&e), ExitStatus::Usage);
    }
}
