//! CLI: the `translate` command line on top of the library.
//!
//! Owns the flags (clap derive), their merge over the config file, logging and the
//! progress display (stderr only; data such as the `--dry-run` estimate goes to
//! stdout), and the one mapping from a run's outcome to the exit code:
//! 0 every content paragraph translated; 3 finished but some content untranslated or
//! some input unusable (all outputs still written); 2 usage or config error; 1 any
//! other fatal error.

pub mod auth;
pub mod cache;
mod exit;
pub mod import;
mod progress;
pub mod providers;

pub use exit::ExitStatus;

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;

use crate::config::{Config, Overrides};
use crate::error::Error;
use crate::model::Lang;
use crate::pipeline::{self, Estimate, RunOptions, RunOutcome};
use crate::write::Format;
use crate::write::tmx::Unit;

/// Default output directory.
pub const DEFAULT_OUT: &str = "out";
/// Default cache directory.
pub const DEFAULT_CACHE: &str = "cache";

/// Translate Arabic and Persian articles into aligned bilingual documents.
#[derive(Debug, Parser)]
#[command(
    name = "translate",
    version,
    about,
    max_term_width = 100,
    args_override_self = true,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Args {
    /// Other jobs: keys, providers, importing corrections
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Files or directories to translate (directories are walked for .txt, .md, .html, .htm)
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,

    /// Target language (e.g. en)
    #[arg(long, value_name = "LANG", required = true)]
    pub to: Option<Lang>,

    /// Source language, or `auto` to detect Arabic vs Persian per document
    #[arg(long, value_name = "LANG", default_value = "auto")]
    pub from: String,

    /// Provider defined in the config, or a chain tried in order (a,b,c) [default: the config's
    /// default_provider]
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Override the provider's base URL (self-hosted servers, tests); with the default chain, its
    /// first provider's, which then runs alone
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// Config file [default: config/translate.toml when it exists, else built-in defaults]
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Output directory
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
    pub out: PathBuf,

    /// Cache directory
    #[arg(long, value_name = "DIR", default_value = DEFAULT_CACHE)]
    pub cache_dir: PathBuf,

    /// Share a translation memory, leases and rate with other processes and machines
    /// (postgres://…) [default: $TARJAMA_CACHE, else the config's [cache] url, else none]
    #[arg(long, value_name = "URL")]
    pub cache: Option<String>,

    /// Output formats, comma-separated: any of html,md,tmx,jsonl,xliff
    #[arg(
        long,
        value_name = "LIST",
        value_enum,
        value_delimiter = ',',
        ignore_case = true,
        default_value = "html,md,tmx,jsonl,xliff",
        hide_possible_values = true
    )]
    pub format: Vec<Format>,

    /// What one TMX translation unit holds: paragraph, or sentence (an aligned sentence pair)
    #[arg(long, value_name = "UNIT", value_enum, default_value_t = Unit::Paragraph,
          hide_possible_values = true)]
    pub tmx_unit: Unit,

    /// Make no network connection: serve from the cache, list what is missing
    #[arg(long)]
    pub offline: bool,

    /// Send nothing and write nothing: print what a real run would send and how long it would take
    #[arg(long)]
    pub dry_run: bool,

    /// Override the provider's rate limit (requests per second)
    #[arg(long, value_name = "N")]
    pub rps: Option<f64>,

    /// Override the provider's cap on requests in flight
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Print errors only
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More output (-v info, -vv debug)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The jobs besides translating.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Store, show or delete a provider's API key in the OS keyring
    Auth {
        /// What to do with the key
        #[command(subcommand)]
        action: auth::Action,
    },
    /// List the configured providers, or check that they answer (--check)
    Providers {
        /// Make one cheap call to each provider (or only NAME): reachability, key, quota
        #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
        check: Option<String>,
    },
    /// Store corrections (corrections file, XLIFF 2.0, TMX, JSONL) as reviewed translations
    Import {
        /// Files to import; the format is told from the content
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Cache directory
        #[arg(long, value_name = "DIR", default_value = DEFAULT_CACHE)]
        cache_dir: PathBuf,
        /// Store them in this shared translation memory too (postgres://…) [default:
        /// $TARJAMA_CACHE, else the config's [cache] url, else none]
        #[arg(long, value_name = "URL")]
        cache: Option<String>,
    },
    /// Copy a translation memory between a cache directory and a shared one (PostgreSQL)
    Cache {
        /// What to do
        #[command(subcommand)]
        action: cache::Action,
    },
}

/// Run the command line; returns how the process ends.
#[must_use]
pub fn run() -> ExitStatus {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
        }
    };
    init_logging(&args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return exit::report(&Error::other("cannot start the async runtime", e)),
    };
    let job = async {
        match &args.command {
            Some(Command::Auth { action }) => auth::run(&args, action),
            Some(Command::Providers { check }) => providers::run(&args, check.as_deref()).await,
            Some(Command::Import {
                files,
                cache_dir,
                cache,
            }) => import::run(&args, files, cache_dir, cache.as_deref()).await,
            Some(Command::Cache { action }) => cache::run(action).await,
            None => translate(&args).await,
        }
    };
    runtime.block_on(job).unwrap_or_else(|e| exit::report(&e))
}

fn init_logging(args: &Args) {
    // Only our own crate logs past `warn`: dependency logs at debug level could print
    // request URLs, and a URL may carry a key in its query string.
    let level = match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,tarjama=info",
        (false, _) => "warn,tarjama=debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .try_init();
}

/// Merge flags over the config into the pipeline's options.
///
/// # Errors
/// A bad config file, an unknown provider or format, a bad override.
pub fn options(args: &Args) -> Result<RunOptions, Error> {
    let config = Config::load(args.config.as_deref())?;
    let overrides = Overrides {
        endpoint: args.endpoint.clone(),
        rps: args.rps,
        concurrency: args.concurrency,
    };
    let chain = config
        .chain(args.provider.as_deref(), &overrides)?
        .into_iter()
        .map(|(name, settings)| pipeline::Service { name, settings })
        .collect();
    let formats = Format::in_order(&args.format);
    // clap requires --to for a translation run; it is an Option only because the
    // subcommands do without it.
    let Some(to) = args.to.as_ref().map(ToString::to_string) else {
        return Err(Error::Usage(
            "--to needs a language code such as `en`".into(),
        ));
    };
    let from = match args.from.trim().to_ascii_lowercase().as_str() {
        "" | "auto" => None,
        f => Some(f.to_string()),
    };
    if args.offline && args.dry_run {
        return Err(Error::Usage(
            "--offline and --dry-run cannot be used together".into(),
        ));
    }
    let cache_url = cache::shared_url(args.cache.as_deref(), &config)?;
    Ok(RunOptions {
        inputs: args.inputs.clone(),
        to,
        from,
        chain,
        out_dir: args.out.clone(),
        cache_dir: args.cache_dir.clone(),
        cache_url,
        formats,
        write: crate::write::WriteOptions {
            tmx_unit: args.tmx_unit,
        },
        offline: args.offline,
        dry_run: args.dry_run,
    })
}

async fn translate(args: &Args) -> Result<ExitStatus, Error> {
    let opts = options(args)?;
    let events = progress::Progress::new(args.quiet, args.verbose, opts.chain[0].settings.rps);
    let outcome = pipeline::run(&opts, &events).await?;
    if let Some(est) = &outcome.estimate {
        print_estimate(&opts, est);
        return Ok(if outcome.report.errors.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Incomplete
        });
    }
    if !args.quiet {
        progress::summary(&opts, &outcome);
        for note in &outcome.notes {
            eprintln!("note: {note}");
        }
    }
    if let Some(p) = &outcome.provider_problem {
        eprintln!("error: {p}");
    }
    Ok(exit_code(&outcome))
}

/// The one mapping from a finished run to its exit status.
#[must_use]
pub fn exit_code(outcome: &RunOutcome) -> ExitStatus {
    if outcome.report.untranslated == 0 && outcome.report.errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Incomplete
    }
}

fn print_estimate(opts: &RunOptions, est: &Estimate) {
    let first = &opts.chain[0];
    let p = &first.settings;
    let rate = if p.chars_per_minute > 0 {
        format!(
            "{} requests/s (burst {}), {} characters/min",
            p.rps, p.burst, p.chars_per_minute
        )
    } else {
        format!("{} requests/s (burst {})", p.rps, p.burst)
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "dry run: nothing sent, nothing written\n\
         provider:            {} ({})\n\
         documents:           {}\n\
         content paragraphs:  {}\n\
         \x20 in the cache:      {}\n\
         \x20 repeated in run:   {}\n\
         would send:          {} paragraphs, {} characters, {} requests\n\
         at {rate}: about {}",
        first.name,
        crate::provider::endpoint_shown(p),
        est.documents,
        est.content_paragraphs,
        est.cached_paragraphs,
        est.deduplicated_paragraphs,
        est.paragraphs,
        est.characters,
        est.requests,
        progress::human_duration(est.duration),
    );
    let _ = out.write_all(plan_text(opts, est).as_bytes());
}

/// The dry run's plan of the chain: what each service is likely to take today, and
/// whether the run can finish today.
#[must_use]
pub fn plan_text(opts: &RunOptions, est: &Estimate) -> String {
    use crate::provider::Allowance;
    let width = est.plan.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let mut out = format!(
        "plan for today ({} characters to send, the chain tried in order):\n",
        thousands(est.characters as u64)
    );
    let mut unofficial_used = false;
    for e in &est.plan {
        let allowance = match e.allowance {
            _ if e.no_key => "needs a key and has none".to_string(),
            Allowance::Daily(n) => format!(
                "{} characters a day, {} sent today by this cache",
                thousands(n),
                thousands(e.sent_today)
            ),
            Allowance::Monthly(n) => format!(
                "{} characters a month free (this month's use is not known here)",
                thousands(n)
            ),
            Allowance::Unmetered => "no quota (self-hosted)".to_string(),
            Allowance::Unknown if e.unofficial => {
                "unofficial, no published limit; it may block at any time".to_string()
            }
            Allowance::Unknown => "no published free allowance".to_string(),
        };
        unofficial_used |= e.unofficial && e.takes > 0;
        out.push_str(&format!(
            "  {:width$}  {allowance} → takes {}\n",
            e.name,
            thousands(e.takes)
        ));
    }
    let taken: u64 = est.plan.iter().map(|e| e.takes).sum();
    let left = (est.characters as u64).saturating_sub(taken);
    let verdict = if left > 0 {
        format!(
            "no: about {} characters would be left for another day (rerun then: the cache keeps the rest)",
            thousands(left)
        )
    } else if unofficial_used {
        "yes, if the unofficial services answer".to_string()
    } else {
        "yes".to_string()
    };
    out.push_str(&format!("can finish today: {verdict}\n"));
    let mymemory_short = left > 0
        && opts.chain.iter().any(|s| {
            crate::provider::quota_hint(&s.name, &s.settings).is_some()
                && matches!(
                    crate::provider::about(&s.settings).allowance,
                    Allowance::Daily(_)
                )
        });
    if mymemory_short {
        for s in &opts.chain {
            if let Some(hint) = crate::provider::quota_hint(&s.name, &s.settings) {
                out.push_str(&format!("hint: {hint}\n"));
            }
        }
    }
    out
}

/// `50,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
