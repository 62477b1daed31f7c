//! The `translate` binary: a thin shim over [`tarjama::cli::run`].

fn main() -> std::process::ExitCode {
    let code = tarjama::cli::run();
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
