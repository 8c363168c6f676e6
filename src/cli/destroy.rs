//! `gcctl destroy`: delete the declared objects, as an apply of the destroy
//! plan (`gcctl apply` does the work).

use std::path::PathBuf;

use crate::apply::ApplySettings;
use crate::cli::apply::{self, ApplyArgs, ApplyOutput};
use crate::cli::{GlobalArgs, Outcome};
use crate::printer::Printer;

/// Delete every object the manifests declare from the org, in reverse
/// dependency order, keeping those declared with `protect: true`: for
/// preview and test orgs. Reads the org, shows the plan, asks for
/// confirmation (or --auto-approve), then deletes. `gcctl plan --destroy
/// --out FILE` saves the same plan for `gcctl apply --plan FILE`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl destroy manifests/ --env preview-42\n  gcctl plan --destroy manifests/ --out destroy.json\n  gcctl apply --plan destroy.json --auto-approve\n\nConnects with GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID + GENESYSCLOUD_OAUTHCLIENT_SECRET (or GENESYSCLOUD_ACCESS_TOKEN), or --sandbox."
)]
pub struct DestroyArgs {
    /// Manifest files or directories, read together as one set.
    #[arg(value_name = "PATHS", required = true)]
    pub paths: Vec<PathBuf>,

    /// The Project environment whose variables apply.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,

    /// Only these objects and what refers to them, transitively (repeatable;
    /// `Kind/name` with `*` and `?` globs): an object that refers to a
    /// deleted one could not stay, and nothing another declared object
    /// refers to is deleted. The plan is partial, and says so.
    #[arg(long, value_name = "KIND/NAME")]
    pub select: Vec<String>,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// How many deletes may run at once (default: as many as the API client
    /// keeps requests in flight).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub parallelism: Option<u16>,

    /// Output: a readable report, or one JSON event per line.
    #[arg(long, short, value_enum, default_value_t = ApplyOutput::Text)]
    pub output: ApplyOutput,

    /// Seconds to wait for another apply on the same org to finish.
    #[arg(long, value_name = "SECONDS", env = "GCCTL_LOCK_TIMEOUT", default_value_t = 0)]
    pub lock_timeout: u64,

    /// Unlock a flow that someone else has locked (checked out in
    /// Architect) before deleting it; without it, gcctl refuses and names
    /// who holds the lock.
    #[arg(long)]
    pub unlock_flows: bool,

    #[command(flatten)]
    pub connect: crate::cli::ConnectArgs,
}

/// `gcctl destroy`: an apply of the destroy plan.
pub fn run(args: &DestroyArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let apply = ApplyArgs {
        paths: args.paths.clone(),
        plan: None,
        env: args.env.clone(),
        select: args.select.clone(),
        auto_approve: args.auto_approve,
        prune: false,
        parallelism: args.parallelism,
        secrets_dir: None,
        output: args.output,
        wait_timeout: 120,
        no_restore_secrets: true,
        lock_timeout: args.lock_timeout,
        destroy: true,
        flow_job_timeout: ApplySettings::DEFAULT_FLOW_JOB_TIMEOUT.as_secs(),
        unlock_flows: args.unlock_flows,
        connect: args.connect.clone(),
        consistency_window: ApplySettings::DEFAULT_CONSISTENCY_WINDOW.as_secs(),
    };
    apply::run(&apply, global, printer)
}
