//! The `translate` binary: a thin shim over [`tarjama::cli::run`].

fn main() -> std::process::ExitCode {
    tarjama::cli::run().into()
}
