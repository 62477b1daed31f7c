//! Every emulator behind one interface, for the checks every provider must pass
//! (`tests/it/provider_matrix.rs`): start one for a service, make it hang or spend its
//! quota, and read what it received as [`Seen`] requests whatever the wire format.

use serde_json::Value;

use super::apertium_emu::{self, ApertiumEmulator};
use super::azure_emu::{self, AzureEmulator};
use super::deepl_emu::{self, DeeplEmu};
use super::edge_emu::{self, EdgeEmu};
use super::emulator::{self, Api, Emulator};
use super::google_emu::{self, GoogleEmu};
use super::google_web_emu::{self, GoogleWebEmu};
use super::openai_emu::{self, OpenaiEmu};
use super::server::Logged;

/// One built-in service as the matrix tests it.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// Its table in the shipped config (and its kind).
    pub name: &'static str,
    /// The key its emulator requires (or accepts), when it takes one.
    pub key: Option<&'static str>,
    /// The environment variable the shipped config reads the key from.
    pub key_env: Option<&'static str>,
    /// A text it can translate, and its language.
    pub sample: (&'static str, &'static str),
}

/// Every built-in service. Keys carry characters a query string percent-encodes
/// (Google's), and a fragment (`SeCrEt`, `5eCr3t`) no message may show.
pub const CASES: [Case; 9] = [
    Case {
        name: "mymemory",
        key: Some("SeCrEt-KeY-0123456789"),
        key_env: Some("MYMEMORY_KEY"),
        sample: ("ar", "واحد"),
    },
    Case {
        name: "libretranslate",
        key: Some("SeCrEt-LT-KeY-0123456789"),
        key_env: Some("LIBRETRANSLATE_API_KEY"),
        sample: ("ar", "واحد"),
    },
    Case {
        name: "deepl",
        key: Some("5eCr3t-KeY-0123-4567-89ab:fx"),
        key_env: Some("DEEPL_AUTH_KEY"),
        sample: ("ar", "واحد"),
    },
    Case {
        name: "google",
        key: Some("AIzaSeCrEt/KeY+0123=="),
        key_env: Some("GOOGLE_API_KEY"),
        sample: ("ar", "واحد"),
    },
    Case {
        name: "azure",
        key: Some("AzUrE-SeCrEt-0123456789abcdef"),
        key_env: Some("AZURE_TRANSLATOR_KEY"),
        sample: ("ar", "واحد"),
    },
    Case {
        name: "apertium",
        key: None,
        key_env: None,
        sample: ("es", "la casa"),
    },
    Case {
        name: "openai",
        key: Some("sk-emu-SeCrEt-0123456789"),
        key_env: Some("OPENAI_API_KEY"),
        sample: ("ar", "واحد"),
    },
    Case {
        name: "edge",
        key: None,
        key_env: None,
        sample: ("ar", "واحد"),
    },
    Case {
        name: "google-web",
        key: None,
        key_env: None,
        sample: ("ar", "واحد"),
    },
];

/// The case of service `name`.
pub fn case(name: &str) -> Case {
    *CASES
        .iter()
        .find(|c| c.name == name)
        .expect("a built-in service")
}

/// One request an emulator received, whatever its wire format.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `GET`, `POST`.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body as the emulator parsed it.
    pub body: Option<Value>,
    /// The texts it asked to translate (empty for other calls).
    pub texts: Vec<String>,
    /// The source language it named, as our code (`ar`, `fa`, `es` …), for a
    /// translate request.
    pub from: Option<String>,
    /// OpenAI: the system prompt.
    pub system: Option<String>,
    /// Whether it asked for a translation.
    pub translate: bool,
}

impl Seen {
    /// The first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        (self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running emulator of one service.
pub enum Emu {
    /// MyMemory.
    MyMemory(Emulator),
    /// LibreTranslate.
    LibreTranslate(Emulator),
    /// DeepL.
    Deepl(DeeplEmu),
    /// Google Cloud Translation.
    Google(GoogleEmu),
    /// Azure AI Translator.
    Azure(AzureEmulator),
    /// Apertium APY.
    Apertium(ApertiumEmulator),
    /// An OpenAI-compatible server.
    Openai(OpenaiEmu),
    /// Edge's page translator.
    Edge(EdgeEmu),
    /// Google's browser-extension endpoint.
    GoogleWeb(GoogleWebEmu),
}

impl Emu {
    /// Start the emulator of `case` on its own runtime (for tests that run the
    /// binary as well as for async ones), requiring its key where the service does.
    pub fn spawn(case: Case) -> Emu {
        let key = case.key.unwrap_or_default();
        match case.name {
            "mymemory" => Emu::MyMemory(Emulator::spawn_blocking_runtime(Api::MyMemory)),
            "libretranslate" => {
                let e = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
                e.require_api_key(key);
                Emu::LibreTranslate(e)
            }
            "deepl" => Emu::Deepl(DeeplEmu::spawn_blocking_runtime(key)),
            "google" => Emu::Google(GoogleEmu::spawn_blocking_runtime(key)),
            "azure" => {
                let e = AzureEmulator::spawn_blocking_runtime();
                e.require_key(key);
                Emu::Azure(e)
            }
            "apertium" => Emu::Apertium(ApertiumEmulator::spawn_blocking_runtime()),
            "openai" => {
                let e = OpenaiEmu::spawn_blocking_runtime();
                e.require_key(key);
                Emu::Openai(e)
            }
            "edge" => Emu::Edge(EdgeEmu::spawn_blocking_runtime()),
            "google-web" => Emu::GoogleWeb(GoogleWebEmu::spawn_blocking_runtime()),
            other => panic!("no emulator for {other}"),
        }
    }

    /// The endpoint to configure (OpenAI's with `/v1`).
    pub fn url(&self) -> String {
        match self {
            Emu::MyMemory(e) | Emu::LibreTranslate(e) => e.url(),
            Emu::Deepl(e) => e.url(),
            Emu::Google(e) => e.url(),
            Emu::Azure(e) => e.url(),
            Emu::Apertium(e) => e.url(),
            Emu::Openai(e) => e.endpoint(),
            Emu::Edge(e) => e.url(),
            Emu::GoogleWeb(e) => e.url(),
        }
    }

    /// Never answer a translate request.
    pub fn hang(&self) {
        match self {
            Emu::MyMemory(e) | Emu::LibreTranslate(e) => e.set_mode(emulator::Behaviour::Hang),
            Emu::Deepl(e) => e.set_mode(deepl_emu::Behaviour::Hang),
            Emu::Google(e) => e.set_mode(google_emu::Behaviour::Hang),
            Emu::Azure(e) => e.set_mode(azure_emu::Behaviour::Hang),
            Emu::Apertium(e) => e.set_mode(apertium_emu::Behaviour::Hang),
            Emu::Openai(e) => e.set_mode(openai_emu::Behaviour::Hang),
            Emu::Edge(e) => e.set_mode(edge_emu::Behaviour::Hang),
            Emu::GoogleWeb(e) => e.set_mode(google_web_emu::Behaviour::Hang),
        }
    }

    /// Answer every translate request with the service's used-up quota (for the
    /// undocumented services: 429 without `Retry-After`, what they give at an
    /// unpublished limit). `false` for a service without a quota (Apertium).
    pub fn spend_quota(&self) -> bool {
        match self {
            Emu::MyMemory(e) | Emu::LibreTranslate(e) => {
                e.set_mode(emulator::Behaviour::QuotaExhausted)
            }
            Emu::Deepl(e) => e.set_mode(deepl_emu::Behaviour::Quota456),
            Emu::Google(e) => e.set_mode(google_emu::Behaviour::DailyLimit403),
            Emu::Azure(e) => e.set_mode(azure_emu::Behaviour::code(403_001)),
            Emu::Apertium(_) => return false,
            Emu::Openai(e) => e.set_mode(openai_emu::Behaviour::InsufficientQuota),
            Emu::Edge(e) => e.set_mode(edge_emu::Behaviour::Quota),
            Emu::GoogleWeb(e) => e.set_mode(google_web_emu::Behaviour::Quota),
        }
        true
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Seen> {
        match self {
            Emu::MyMemory(e) => e.requests().iter().map(mymemory).collect(),
            Emu::LibreTranslate(e) => e.requests().iter().map(libretranslate).collect(),
            Emu::Deepl(e) => e.requests().iter().map(deepl).collect(),
            Emu::Google(e) => e.requests().iter().map(google).collect(),
            Emu::Azure(e) => e.requests().iter().map(azure).collect(),
            Emu::Apertium(e) => e.requests().iter().map(apertium).collect(),
            Emu::Openai(e) => e.requests().iter().map(openai).collect(),
            Emu::Edge(e) => e.requests().iter().map(edge).collect(),
            Emu::GoogleWeb(e) => e.requests().iter().map(google_web).collect(),
        }
    }

    /// The translate requests only.
    pub fn translate_requests(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.translate)
            .collect()
    }
}

/// The common part of a [`Seen`] from the server's log entry.
fn seen(l: &Logged, texts: Vec<String>, from: Option<String>, translate: bool) -> Seen {
    Seen {
        method: l.method.clone(),
        path: l.path.clone(),
        query: l.query.clone(),
        headers: l.headers.clone(),
        body: l.body.clone(),
        texts,
        from: from.map(|f| f.to_ascii_lowercase()),
        system: None,
        translate,
    }
}

fn body_str(l: &Logged, field: &str) -> Option<String> {
    (l.body.as_ref())
        .and_then(|b| b.get(field))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn mymemory(l: &Logged) -> Seen {
    let from = (l.query_param("langpair")).and_then(|p| p.split('|').next().map(str::to_string));
    seen(l, l.texts(), from, l.path == "/get")
}

fn libretranslate(l: &Logged) -> Seen {
    seen(l, l.texts(), body_str(l, "source"), l.path == "/translate")
}

fn deepl(l: &Logged) -> Seen {
    let translate = l.path == "/v2/translate";
    seen(
        l,
        deepl_emu::texts(l),
        body_str(l, "source_lang"),
        translate,
    )
}

fn google(l: &Logged) -> Seen {
    let translate = l.path == google_emu::TRANSLATE_PATH;
    seen(l, l.texts(), body_str(l, "source"), translate)
}

fn azure(l: &Logged) -> Seen {
    let from = l.query_param("from").map(str::to_string);
    seen(l, azure_emu::texts(l), from, l.path == "/translate")
}

fn apertium(l: &Logged) -> Seen {
    let texts = apertium_emu::text(l)
        .map(str::to_string)
        .into_iter()
        .collect();
    let from = body_str(l, "langpair")
        .and_then(|p| p.split('|').next().map(str::to_string))
        .map(|f| match f.as_str() {
            "ara" => "ar".to_string(),
            "pes" => "fa".to_string(),
            "spa" => "es".to_string(),
            "eng" => "en".to_string(),
            _ => f,
        });
    seen(l, texts, from, l.path == "/translate")
}

fn openai(l: &openai_emu::Logged) -> Seen {
    let system = l.system.clone();
    let from = system.as_deref().and_then(|s| {
        if s.contains("from Arabic") {
            Some("ar".to_string())
        } else if s.contains("from Persian") {
            Some("fa".to_string())
        } else {
            None
        }
    });
    Seen {
        method: l.method.clone(),
        path: l.path.clone(),
        query: Vec::new(),
        headers: l.headers.clone(),
        body: l.body.clone(),
        texts: l.texts(),
        from,
        system,
        translate: l.is_chat(),
    }
}

fn edge(l: &Logged) -> Seen {
    let from = l.query_param("from").map(str::to_string);
    seen(l, edge_emu::texts(l), from, l.path == edge_emu::PATH)
}

fn google_web(l: &Logged) -> Seen {
    let from = l.query_param("sl").map(str::to_string);
    seen(l, l.texts(), from, l.path == google_web_emu::PATH)
}
