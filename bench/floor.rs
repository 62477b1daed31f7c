//! The floor of a rerun: the least work any run over a corpus has to do before it can
//! know that nothing changed. `cargo run --release --example bench_floor -- DIR...`
//!
//! It walks the INPUTs as `translate` does (`tarjama::ingest::collect`: the same files,
//! the same exclusions), and for each file, on one thread, in order:
//! 1. reads its bytes;
//! 2. decodes them to text (`tarjama::ingest::decode::decode`: BOM, UTF-16 and legacy
//!    encoding detection, conversion to UTF-8; no HTML extraction, no normalization);
//! 3. cuts the text into paragraphs at blank lines;
//! 4. hashes every paragraph with BLAKE3 (what a cache key costs per paragraph).
//!
//! It prints one JSON object: files, paragraphs, bytes read, and the seconds it took
//! (the best of `--repeat N` passes, default 3, so the page cache is warm as it is for
//! the runs it is compared with). `bench/run.sh` divides the cached rerun's and the dry
//! run's wall times by it.

#![allow(clippy::print_stdout, clippy::exit)] // a benchmark prints what it measured
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut repeat = 3_usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(3).max(1);
        } else {
            inputs.push(a.into());
        }
    }
    if inputs.is_empty() {
        eprintln!("usage: bench_floor [--repeat N] DIR...");
        std::process::exit(2);
    }
    let mut best = f64::INFINITY;
    let mut last = (0, 0, 0);
    for _ in 0..repeat {
        let t = Instant::now();
        last = pass(&inputs);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let (files, paragraphs, bytes) = last;
    println!(
        "{{\"files\": {files}, \"paragraphs\": {paragraphs}, \"bytes\": {bytes}, \"seconds\": {best:.4}, \"method\": \"walk; read bytes; decode (BOM/UTF-16/legacy, to UTF-8); split at blank lines; BLAKE3 per paragraph; one thread; best of {repeat}\"}}"
    );
}

/// One pass over the inputs: (files, paragraphs, bytes).
fn pass(inputs: &[PathBuf]) -> (usize, usize, u64) {
    let walk = tarjama::ingest::collect(inputs, &[]);
    let (mut files, mut paragraphs, mut bytes) = (0, 0, 0_u64);
    let mut sink = [0_u8; 32];
    for file in &walk.files {
        let Ok(raw) = fs_err::read(&file.path) else {
            continue;
        };
        bytes += raw.len() as u64;
        let Ok((text, _)) = tarjama::ingest::decode::decode(&raw) else {
            continue;
        };
        files += 1;
        for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            let h = blake3::hash(para.as_bytes());
            // Keep the hashes observable so none is optimized away.
            for (s, b) in sink.iter_mut().zip(h.as_bytes()) {
                *s ^= b;
            }
            paragraphs += 1;
        }
    }
    std::hint::black_box(sink);
    (files, paragraphs, bytes)
}
