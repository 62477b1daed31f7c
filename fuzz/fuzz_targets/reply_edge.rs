//! edge's answer classifier on arbitrary status codes and bodies.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tarjama_fuzz::check_reply(data, 25, tarjama::provider::fuzz::edge);
});
