//! Command-line interface: clap argument types, their resolution into
//! settings, one file per subcommand, and the single place where errors
//! become messages and exit codes.
//!
//! Exit codes follow `terraform plan -detailed-exitcode`: 0 success / nothing
//! to do, 1 error, 2 changes (or drift) present.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::printer::{ColorChoice, Printer};

mod apply;
pub mod completion;
pub mod connect;
mod destroy;
mod drift;
mod export;
pub mod man;
mod plan;
pub mod reference;
pub mod sandbox;
mod schema;
mod validate;

/// The `--version` text: the package version, the commit and the build date
/// (stamped by `build.rs`; the commit is `unknown` outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("GCCTL_COMMIT"),
    " ",
    env!("GCCTL_BUILD_DATE"),
    ")"
);

/// Declarative configuration for Genesys Cloud: validate, plan, apply, drift, export.
#[derive(Debug, Parser)]
#[command(name = "gcctl", version = VERSION, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every subcommand (`--color`, `-q`, `-v`), and the
/// connection options before the subcommand (`gcctl --sandbox plan`); the
/// subcommands that talk to an org take the connection options too
/// ([`ConnectArgs`]), and only they show them.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Target the built-in sandbox org instead of Genesys Cloud. Its state is
    /// kept under `.gcctl/` in the working directory, so runs build on each other.
    #[arg(long)]
    pub sandbox: bool,

    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print less on stderr (errors are always printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Log to stderr: -v every API request (method, path, status, timing;
    /// never headers, bodies or secrets), -vv more detail.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Client-side limit of API requests per minute (default 300 against
    /// Genesys Cloud, the per-token limit of a real org; none for --sandbox).
    #[arg(long, value_name = "N", env = "GCCTL_RATE_LIMIT")]
    pub rate_limit: Option<u32>,

    /// Most access tokens to mint with OAuth client credentials (default
    /// 10); more than one only when the waiting work needs them; 1 turns
    /// pooling off.
    #[arg(long, value_name = "N", env = "GCCTL_MAX_TOKENS", value_parser = clap::value_parser!(u16).range(1..=50))]
    pub max_tokens: Option<u16>,
}

impl GlobalArgs {
    /// The global options with a subcommand's connection options added.
    #[must_use]
    pub fn with(&self, connect: &ConnectArgs) -> GlobalArgs {
        GlobalArgs {
            sandbox: self.sandbox || connect.sandbox,
            rate_limit: connect.rate_limit.or(self.rate_limit),
            max_tokens: connect.max_tokens.or(self.max_tokens),
            ..self.clone()
        }
    }
}

/// Where a subcommand that talks to an org connects (see "Connecting to an
/// org": `GENESYSCLOUD_OAUTHCLIENT_ID`, `GENESYSCLOUD_OAUTHCLIENT_SECRET` or
/// `GENESYSCLOUD_ACCESS_TOKEN`, and `GENESYSCLOUD_REGION`).
#[derive(Debug, Clone, Default, clap::Args)]
#[allow(clippy::doc_markdown)] // The field docs are help text: no backticks there.
pub struct ConnectArgs {
    /// Target the built-in sandbox org instead of Genesys Cloud (its state is
    /// kept under `.gcctl/` in the working directory). Without it, the org is
    /// given by GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID +
    /// GENESYSCLOUD_OAUTHCLIENT_SECRET, or GENESYSCLOUD_ACCESS_TOKEN.
    #[arg(long)]
    pub sandbox: bool,

    /// Client-side limit of API requests per minute (default 300 against
    /// Genesys Cloud, the per-token limit of a real org; none for --sandbox).
    #[arg(long, value_name = "N", env = "GCCTL_RATE_LIMIT")]
    pub rate_limit: Option<u32>,

    /// Most access tokens to mint with OAuth client credentials, each with
    /// its own rate budget (default 10); more than one only when the waiting
    /// work needs them; 1 turns pooling off. An access token given directly
    /// (GENESYSCLOUD_ACCESS_TOKEN, or --sandbox's user token) cannot be
    /// pooled.
    #[arg(long, value_name = "N", env = "GCCTL_MAX_TOKENS", value_parser = clap::value_parser!(u16).range(1..=50))]
    pub max_tokens: Option<u16>,
}

/// `-v` on a command that talks to no org (validate, schema, man,
/// completion): accepted as everywhere, so that scripts may pass it to
/// every command, but its help says what it does here, not what it does
/// for API requests. It shares the global flag's id, so clap does not add
/// the global one to these commands, and its count reaches
/// [`GlobalArgs::verbose`] all the same.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OfflineVerbose {
    /// Accepted as on every command (-v, -vv); this command sends no API
    /// request, so there is nothing more to log.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline: syntax, fields, limits, references, secrets.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of the manifest format.
    Schema(schema::SchemaArgs),
    /// Show what apply would change in the org.
    Plan(plan::PlanArgs),
    /// Converge the org to the manifests.
    Apply(Box<apply::ApplyArgs>),
    /// Delete the declared objects from the org (protected ones stay).
    Destroy(Box<destroy::DestroyArgs>),
    /// Run a local sandbox org that speaks the Genesys Cloud API.
    Sandbox(Box<sandbox::SandboxArgs>),
    /// Report where the live org differs from the manifests.
    Drift(drift::DriftArgs),
    /// Write manifests for the objects of a live org.
    Export(export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(completion::CompletionArgs),
    /// Write man pages for gcctl and its subcommands.
    Man(man::ManArgs),
}

/// The manifest set a command works on (`plan`, `drift`).
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Manifest files or directories, read together as one set.
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<std::path::PathBuf>,

    /// The Project environment whose variables apply.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,

    /// Only these objects and what they refer to (repeatable; `Kind/name`
    /// with `*` and `?` globs, e.g. `RoutingQueue/acme-*`). The result is
    /// partial, and says so: prunes are left out.
    #[arg(long, value_name = "KIND/NAME")]
    pub select: Vec<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Load a manifest set and narrow it to `--select` (reaching what the
/// selected objects need, or for a destroy what needs them); on problems
/// print them (`file:line:column`) and return `None`, which the command
/// turns into exit 1.
pub fn load_set(
    paths: &[std::path::PathBuf],
    env: Option<String>,
    select: &[String],
    reach: crate::manifest::select::Reach,
    printer: &Printer,
) -> Option<crate::manifest::ManifestSet> {
    use crate::manifest::select::Reach;
    // Secrets that resolve here are registered for redaction before any
    // diagnostic is printed: one may quote a value that holds a secret.
    let env_var = |key: &str| std::env::var(key).ok();
    let set = match crate::manifest::load(paths, &crate::manifest::LoadOptions { env }) {
        Ok(set) => set,
        Err(err) => {
            crate::manifest::register_secrets(&err.objects, &env_var);
            validate::print_diagnostics(printer, &err.diagnostics);
            return None;
        }
    };
    crate::manifest::register_secrets(&set.objects, &env_var);
    validate::print_warnings(printer, &set.warnings);
    // Objects in the org only: a Project or a Webhook is never planned.
    let in_org = |set: &crate::manifest::ManifestSet| {
        set.objects.iter().filter(|o| o.kind.is_org_object()).count()
    };
    let total = in_org(&set);
    match set.select(select, reach) {
        Ok(set) => {
            if !select.is_empty() {
                let with = match reach {
                    Reach::Dependencies => "what they refer to",
                    Reach::Dependents => "what refers to them",
                };
                printer.status(&format!(
                    "Selected {} of {total} objects (--select and {with}): a partial plan, without prunes.",
                    in_org(&set)
                ));
            }
            Some(set)
        }
        Err(err) => {
            printer.error(&err.to_string(), &[], err.hint().as_deref());
            None
        }
    }
}

/// Complete the commands that plan problems name (see
/// `plan::problem::ApplyFirst`) with this run's manifest paths,
/// environment and target, so that they run as shown:
/// `gcctl [--sandbox] apply PATHS [--env NAME] --select Role/name`.
pub fn complete_commands(
    mut err: crate::plan::PlanError,
    global: &GlobalArgs,
    paths: &[std::path::PathBuf],
    env: Option<&str>,
) -> crate::plan::PlanError {
    let run = crate::plan::saved::RunCommand {
        sandbox: global.sandbox,
        paths: paths.to_vec(),
        environment: env.map(str::to_string),
        ..crate::plan::saved::RunCommand::default()
    };
    for problem in &mut err.problems {
        problem.complete_command(|select| run.apply_first(select));
    }
    err
}

/// The status line after reading the org: requests sent and time taken.
pub fn read_summary(stats: crate::api::ClientStats, started: std::time::Instant) -> String {
    format!(
        "Read the org with {} API request{} in {:.1}s.",
        stats.requests,
        if stats.requests == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    )
}

/// Plan the regeneration of secrets that a crashed run left unrecorded
/// (or, with `restore` off, only report them), one warning line each on
/// stderr (see `apply::secrets::restore_lost_secrets`).
pub fn restore_lost_secrets(
    plan: &mut crate::plan::Plan,
    secrets_dir: Option<&std::path::Path>,
    restore: bool,
    printer: &Printer,
) {
    for line in crate::apply::secrets::restore_lost_secrets(plan, secrets_dir, restore) {
        let warning = printer.paint_stderr("warning:", crate::printer::Role::Warning);
        printer.status(&format!("{warning} {line}"));
    }
}

/// The org the credentials reach must be the one the selected environment
/// declares (its `org.id` / `org.name` in the Project), checked before any
/// change or report (plan, apply, destroy, drift); `--sandbox` is one org
/// for every environment, so not there. A run whose environment declares no
/// org (or a run without `--env`) must not reach an org that another
/// environment declares: the Project-wide names would be applied to that
/// environment's org, and a prune there deletes what it declares.
pub fn check_environment_org(
    set: &crate::manifest::ManifestSet,
    reached: Option<&crate::plan::OrgIdentity>,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    if global.sandbox {
        return Ok(());
    }
    let declared = set.project.org_for(set.env.as_deref());
    let Some(declared) = declared.filter(|d| d.id.is_some() || d.name.is_some()) else {
        return another_environments_org(set, reached);
    };
    let env = set.env.as_deref().unwrap_or_default();
    let Some(reached) = reached else {
        return Err(hinted(
            format!(
                "cannot tell which org the credentials reach, so environment `{env}` cannot be checked"
            ),
            "GET /api/v2/organizations/me gave no org id",
        ));
    };
    // An id is a GUID, which may be written in either case.
    let id_differs = declared.id.as_ref().is_some_and(|id| !id.eq_ignore_ascii_case(&reached.id));
    let name_differs = declared.name.as_ref().is_some_and(|name| name != &reached.name);
    if id_differs || name_differs {
        let quoted = crate::api::untrusted::quoted;
        let want = match (&declared.name, &declared.id) {
            (Some(name), Some(id)) => format!("{} (id {id})", quoted(name)),
            (Some(name), None) => quoted(name),
            (None, Some(id)) => format!("id {id}"),
            (None, None) => String::new(),
        };
        return Err(hinted(
            format!(
                "environment `{env}` declares org {want}, but the credentials reach org {} (id {}); nothing was changed",
                crate::api::untrusted::quoted(&reached.name),
                crate::api::untrusted::visible(&reached.id)
            ),
            "check the credentials the environment names (its `org` in the Project), or the environment given with --env",
        ));
    }
    Ok(())
}

/// [`check_environment_org`] for a run that declares no org: the reached
/// org must not be one another environment declares.
fn another_environments_org(
    set: &crate::manifest::ManifestSet,
    reached: Option<&crate::plan::OrgIdentity>,
) -> anyhow::Result<()> {
    let Some(reached) = reached else { return Ok(()) };
    let declares = |org: &crate::kinds::project::EnvironmentOrg| match (&org.id, &org.name) {
        (Some(id), _) => id.eq_ignore_ascii_case(&reached.id),
        (None, Some(name)) => *name == reached.name,
        (None, None) => false,
    };
    let others: Vec<String> = set
        .project
        .environments
        .iter()
        .filter(|(name, _)| Some(name.as_str()) != set.env.as_deref())
        .filter(|(_, env)| env.org.as_ref().is_some_and(declares))
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    let (this_run, hint) = match set.env.as_deref() {
        None => ("this run has no --env".to_string(), "run with --env NAME".to_string()),
        Some(env) => (
            format!("this run is for environment `{env}`, which declares no org"),
            format!(
                "run with the --env of that org; if `{env}` shares it, declare it in `{env}`'s `org` too"
            ),
        ),
    };
    Err(hinted(
        format!(
            "the credentials reach org {} (id {}), which the Project declares for environment {}, and {this_run}: its names and prunes would apply to that environment's org; nothing was changed",
            crate::api::untrusted::quoted(&reached.name),
            crate::api::untrusted::visible(&reached.id),
            others.join(", ")
        ),
        hint,
    ))
}

/// Wait for Ctrl-C, or SIGTERM on Unix.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do, or done.
    Success,
    /// Changes or drift present (exit 2, only where the command documents it).
    Changes,
    /// The command ran but reported failures it already printed (exit 1).
    Failed,
    /// Interrupted (Ctrl-C, SIGTERM) after reporting what it did (exit 130).
    Interrupted,
}

/// Entry point used by `main.rs`.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap renders help/version to stdout and usage errors to stderr.
            let code = u8::from(err.use_stderr());
            let _ = err.print();
            // Terraform's `-out FILE` reads as `-o ut` here: say what is meant.
            let terraform_out =
                |a: &OsString| a.to_str().is_some_and(|a| a == "-out" || a.starts_with("-out="));
            if err.use_stderr() && args.iter().skip(1).any(terraform_out) {
                let hint = "hint: a saved plan is written with --out FILE (two dashes; Terraform's -out is not gcctl's)";
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("{hint}\n").as_bytes(),
                );
            }
            return ExitCode::from(code);
        }
    };
    let printer = Printer::new(cli.global.color, cli.global.quiet);
    init_logging(cli.global.verbose);
    match run(&cli, &printer) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Changes) => ExitCode::from(2),
        Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Err(err) => report(&err, &printer),
    }
}

fn run(cli: &Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Validate(args) => validate::run(args, &cli.global, printer),
        Command::Schema(args) => schema::run(args, printer),
        Command::Plan(args) => plan::run(args, &cli.global.with(&args.set.connect), printer),
        Command::Apply(args) => apply::run(args, &cli.global.with(&args.connect), printer),
        Command::Destroy(args) => destroy::run(args, &cli.global.with(&args.connect), printer),
        Command::Sandbox(args) => sandbox::run(args, printer),
        Command::Drift(args) => drift::run(args, &cli.global.with(&args.set.connect), printer),
        Command::Export(args) => export::run(args, &cli.global.with(&args.connect), printer),
        Command::Completion(args) => completion::run(args, printer),
        Command::Man(args) => man::run(args, printer),
    }
}

/// Install the stderr logger when asked for (`-v`).
fn init_logging(verbose: u8) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match verbose {
        0 => return,
        1 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // Only gcctl's own events: the HTTP stack's are noise at this level.
    let filter = tracing_subscriber::filter::filter_fn(move |meta| {
        meta.target().starts_with("gcctl") && *meta.level() <= level
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = tracing_subscriber::registry().with(layer.with_filter(filter)).try_init();
}

/// Render an error chain as `error:` / `Caused by:` / `hint:` and pick the exit code.
fn report(err: &anyhow::Error, printer: &Printer) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    // Plan problems first, each at its location, like validate's diagnostics.
    if let Some(plan) = err.chain().find_map(|e| e.downcast_ref::<crate::plan::PlanError>()) {
        for problem in &plan.problems {
            // A problem may quote the org's text (names, ids, its answer).
            let text = problem.to_string();
            let text = crate::api::untrusted::visible_lines(&text);
            printer.diagnostic(&validate::paint_diagnostic(printer, &text));
        }
    }
    // Each part of the chain once, even from an error that also prints its source.
    let mut chain = crate::render::error_chain(err.as_ref()).into_iter();
    let message = chain.next().unwrap_or_default();
    let causes: Vec<String> = chain.collect();
    let hint = err.chain().find_map(hint_of);
    printer.error(&message, &causes, hint.as_deref());
    ExitCode::from(1)
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// An error with a suggestion for the user. Library errors that know the fix
/// are listed in `hint_of`; command code can wrap any error with [`hinted`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HintedError {
    message: String,
    hint: String,
}

/// A saved plan named where manifests are expected (`gcctl apply plan.yaml`,
/// `gcctl plan plan.json`): said, with the command that applies it (or why
/// this gcctl cannot: another format version), instead of every key of the
/// plan reported as a mistake. Only a file that starts with `{` (after a
/// byte-order mark) is read through to tell.
pub fn refuse_saved_plans(paths: &[std::path::PathBuf]) -> anyhow::Result<()> {
    let starts_as_json = |path: &std::path::PathBuf| {
        let mut head = [0u8; 64];
        let Ok(mut file) = std::fs::File::open(path) else { return false };
        let Ok(n) = std::io::Read::read(&mut file, &mut head) else { return false };
        let head = head[..n].strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&head[..n]);
        head.trim_ascii_start().first() == Some(&b'{')
    };
    let is_plan = |path: &&std::path::PathBuf| {
        let len = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_file).map(|m| m.len());
        len.is_some_and(|len| starts_as_json(path) && crate::plan::saved::is_saved_plan(path, len))
    };
    let Some(path) = paths.iter().find(is_plan) else { return Ok(()) };
    let message = format!("{} is a saved plan, not manifests", path.display());
    Err(match crate::plan::saved::SavedPlan::read(path) {
        // The plan's own command: its target (`--sandbox`) and secrets directory.
        Ok(plan) => hinted(message, format!("apply it with `{}`", plan.apply_command(path))),
        Err(unreadable) => hinted(message, format!("and this gcctl cannot apply it: {unreadable}")),
    })
}

/// Build an error carrying a hint.
pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    HintedError { message: message.into(), hint: hint.into() }.into()
}

pub(crate) fn hint_of(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(e) = err.downcast_ref::<HintedError>() {
        return Some(e.hint.clone());
    }
    if let Some(e) = err.downcast_ref::<crate::api::ConfigError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<crate::api::ApiError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<crate::plan::saved::SavedPlanError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<crate::apply::lock::LockError>() {
        return e.hint();
    }
    None
}
