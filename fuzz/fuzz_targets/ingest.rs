//! Decode, HTML extraction, normalization, segmentation, classification and language
//! detection on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tarjama_fuzz::check_ingest(data);
});
