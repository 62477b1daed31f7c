//! A local stand-in for LibreTranslate or MyMemory, for trying `translate` with no
//! network and no API account. It speaks the documented wire format (the same emulator
//! the tests use) and "translates" by transliterating Arabic and Persian letters into
//! Latin ones, so the outputs are not real English: it shows the pipeline, the cache
//! and the outputs working end to end.
//!
//! ```sh
//! cargo run --example fake_server -- libretranslate      # prints its URL, runs until Ctrl-C
//! translate seeds/ --to en --provider libretranslate --endpoint http://127.0.0.1:PORT
//! ```

use tarjama_testkit::emulator::{Api, Emulator};

fn main() {
    let api = match std::env::args().nth(1).as_deref() {
        None | Some("libretranslate") => Api::LibreTranslate,
        Some("mymemory") => Api::MyMemory,
        Some(other) => {
            eprintln!("usage: fake_server [libretranslate|mymemory] (got `{other}`)");
            std::process::exit(2);
        }
    };
    let emu = Emulator::spawn_blocking_runtime(api);
    eprintln!("{api:?}-compatible server listening on {}", emu.url());
    eprintln!("press Ctrl-C to stop");
    loop {
        std::thread::park();
    }
}
