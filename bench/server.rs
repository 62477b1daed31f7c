//! The benchmark's local translation API: the test emulator (crate `tarjama-testkit`,
//! `tests/support/src/emulator.rs`) as a standalone server, with per-request latency,
//! an optional server-side token bucket answering 429 with `Retry-After`, and counters
//! read at `GET /stats` (JSON: `requests`, `served`, `http_429`, `texts`, `chars`,
//! `first_arrival_unix_ms`, `last_arrival_unix_ms`, `last_served_arrival_unix_ms`,
//! `max_in_flight`).
//!
//! ```sh
//! cargo run --release --example bench_server -- --latency-ms 50 --rate 20 --burst 5
//! ```
//!
//! It prints its base URL on the first line of standard output, then serves until
//! killed. `--rate 0` (the default) means no server-side limit.

use std::io::Write as _;
use std::time::Duration;

use tarjama_testkit::emulator::{Api, Emulator, RateLimit};

const USAGE: &str = "usage: bench_server [--api libretranslate|mymemory] [--latency-ms N] \
                     [--rate R] [--burst B] [--batch-limit N]";

fn main() {
    let mut api = Api::LibreTranslate;
    let (mut latency_ms, mut rate, mut burst, mut batch_limit) = (0u64, 0.0f64, 1u32, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| fail(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--api" => {
                api = match value.as_str() {
                    "libretranslate" => Api::LibreTranslate,
                    "mymemory" => Api::MyMemory,
                    _ => fail(&format!("unknown API {value}")),
                }
            }
            "--latency-ms" => latency_ms = parse(&flag, &value),
            "--rate" => rate = parse(&flag, &value),
            "--burst" => burst = parse(&flag, &value),
            "--batch-limit" => batch_limit = Some(parse(&flag, &value)),
            _ => fail(&format!("unknown flag {flag}")),
        }
    }
    let emu = Emulator::spawn_blocking_runtime(api);
    emu.set_delay(Duration::from_millis(latency_ms));
    emu.set_batch_limit(batch_limit);
    emu.serve_stats(true);
    if rate > 0.0 {
        emu.set_rate_limit(Some(RateLimit {
            per_second: rate,
            burst,
        }));
    }
    let mut out = std::io::stdout().lock();
    // The runner reads this line to find the server.
    #[allow(clippy::print_stdout)]
    let printed = writeln!(out, "{}", emu.url()).and_then(|()| out.flush());
    if printed.is_err() {
        fail("cannot write to standard output");
    }
    drop(out);
    loop {
        std::thread::park();
    }
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| fail(&format!("bad value for {flag}: {value}")))
}

fn fail(msg: &str) -> ! {
    eprintln!("bench_server: {msg}\n{USAGE}");
    #[allow(clippy::exit)]
    std::process::exit(2)
}
