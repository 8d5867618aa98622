//! `tunewise dashboard`: the live web dashboard of a storage's studies (tunewise-dashboard),
//! read-only unless `--allow-writes`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use tunewise_dashboard::Options;

use crate::manage::{open_existing, StorageArg};

/// The flags of `tunewise dashboard`, as given.
#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    storage: StorageArg,
    /// The address to listen on (0.0.0.0 for every interface: the dashboard has no login, so
    /// only on a trusted network).
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 picks a free one (the ready line shows it).
    #[arg(long, value_name = "PORT", default_value_t = 8080)]
    port: u16,
    /// Serve every page under this path (e.g. /tunewise behind a reverse proxy).
    #[arg(long, value_name = "PATH", default_value = "")]
    url_prefix: String,
    /// Open the storage for writing and offer "delete study" and "enqueue trial" on the page
    /// (without it the storage is opened read-only and those endpoints answer 403).
    #[arg(long)]
    allow_writes: bool,
    /// Draw at most about N points per figure (large studies; the best-so-far line stays
    /// exact).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    max_points: usize,
}

/// `tunewise dashboard`.
pub fn dashboard(args: DashboardArgs) -> Result<ExitCode> {
    let options = Options::default()
        .url_prefix(&args.url_prefix)
        .map_err(|e| anyhow!("{e}; fix --url-prefix"))?
        .allow_writes(args.allow_writes)
        .max_points(args.max_points);
    let url = &args.storage.storage;
    let storage = if args.allow_writes {
        open_existing(url)?
    } else {
        tunewise::storage::open_read_only(url).map_err(|e| anyhow!("{e}")).with_context(|| {
            format!("cannot open the storage '{url}' for reading; fix --storage")
        })?
    };
    let mode = if args.allow_writes { "writes allowed" } else { "read-only" };
    let mut printed = Ok(());
    tunewise_dashboard::serve(storage, options, &args.host, args.port, |address| {
        let mut out = std::io::stdout().lock();
        printed = writeln!(out, "tunewise dashboard: serving {address} ({mode})")
            .and_then(|()| out.flush());
    })
    .map_err(|e| anyhow!("{e}"))?;
    printed.context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
