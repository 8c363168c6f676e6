//! Resolving where commands talk to: Genesys Cloud from the
//! `GENESYSCLOUD_*` environment variables, or the built-in sandbox org
//! (`--sandbox`), started in-process on 127.0.0.1 with its state under
//! `.gcctl/sandbox/` so that consecutive runs see one org, as the sandbox's
//! admin user (`admin@sandbox.gcctl.example`, `Master Admin` in every
//! division) with a user token.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::api::{Auth, Client, ClientConfig, WaitHook, resolve_region};
use crate::cli::GlobalArgs;
use crate::manifest::ManifestSet;
use crate::plan::{PlanTarget, Prefetched};
use crate::printer::Printer;
use crate::sandbox::{RunningSandbox, SandboxConfig};

/// Where the in-process sandbox keeps its org, relative to the working directory.
pub const SANDBOX_STATE: &str = ".gcctl/sandbox/org.json";

/// A ready API client and what it points at. Holds the in-process sandbox,
/// if any, which stops when this is dropped.
pub struct Connection {
    pub client: Client,
    pub target: PlanTarget,
    _sandbox: Option<RunningSandbox>,
}

/// Connect as the global options say. Retry waits of a few seconds or more
/// show on a terminal (what is retried, why, until when).
pub async fn connect(global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Connection> {
    connect_to(global, None, printer).await
}

/// Connect as [`connect`], to an environment's declared org when it says
/// how (`--sandbox` wins: the sandbox is one org for every environment).
pub async fn connect_to(
    global: &GlobalArgs,
    org: Option<&crate::kinds::project::EnvironmentOrg>,
    printer: &Printer,
) -> anyhow::Result<Connection> {
    if global.sandbox {
        return connect_sandbox(global, printer).await;
    }
    let env = |key: &str| std::env::var(key).ok();
    let mut config = match org.filter(|o| o.connects()) {
        Some(org) => ClientConfig::from_env(|key| org.setting(key, &env)).map_err(|err| {
            // Named as the Project names them, not as `GENESYSCLOUD_*`.
            let message = match &err {
                crate::api::ConfigError::IncompleteCredentials { present, missing } => {
                    Some(format!(
                        "{} is set but {} is not; both are needed for OAuth client credentials",
                        org.source_of(present),
                        org.source_of(missing)
                    ))
                }
                crate::api::ConfigError::MissingCredentials => Some(org.missing_credentials()),
                crate::api::ConfigError::Region(_) => None,
            };
            let context =
                "cannot connect to the org the environment declares (its `org` in the Project)";
            match message {
                Some(message) => anyhow::anyhow!("{message}").context(context),
                None => anyhow::Error::new(err).context(context),
            }
        })?,
        None => ClientConfig::from_env(env)?,
    };
    if let Some(org) = org.filter(|o| o.connects()) {
        // Hints name the variables the Project names, not `GENESYSCLOUD_*`.
        config.setting_names = crate::api::SettingNames {
            region: org.source_of(crate::api::ENV_REGION),
            client_id: org.source_of(crate::api::ENV_CLIENT_ID),
            client_secret: org.source_of(crate::api::ENV_CLIENT_SECRET),
            access_token: org.source_of(crate::api::ENV_ACCESS_TOKEN),
        };
    }
    if let Some(limit) = global.rate_limit {
        config.rate_limit_per_minute = limit;
    }
    set_max_tokens(&mut config, global, printer);
    config.on_wait = wait_notices(printer);
    let target = PlanTarget::new("org", config.target.label.clone());
    let client = Client::new(config)?;
    Ok(Connection { client, target, _sandbox: None })
}

/// `--max-tokens` (or `GCCTL_MAX_TOKENS`). An access token cannot be pooled:
/// asking for more than one token with one says so.
fn set_max_tokens(config: &mut ClientConfig, global: &GlobalArgs, printer: &Printer) {
    if let Some(n) = global.max_tokens {
        config.max_tokens = usize::from(n);
    }
    if matches!(config.auth, Auth::AccessToken(_)) {
        if global.max_tokens.is_some_and(|n| n > 1) {
            printer.status(
                "gcctl: note: an access token cannot be pooled (GENESYSCLOUD_ACCESS_TOKEN, or \
                 --sandbox's user token): --max-tokens needs OAuth client credentials; running \
                 on one token",
            );
        }
        config.max_tokens = 1;
    }
}

/// Waits shown as status lines, on a terminal only (not with `-q`).
fn wait_notices(printer: &Printer) -> Option<WaitHook> {
    if !printer.progress_enabled() {
        return None;
    }
    let printer = printer.clone();
    Some(WaitHook(Arc::new(move |wait| printer.status(&format!("gcctl: {wait}")))))
}

async fn connect_sandbox(global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Connection> {
    let state = PathBuf::from(SANDBOX_STATE);
    let config = SandboxConfig { state_file: Some(state.clone()), ..SandboxConfig::default() };
    let sandbox = crate::sandbox::start(config).await.with_context(|| {
        format!("cannot start the built-in sandbox org (state in {})", state.display())
    })?;
    let target = resolve_region(&sandbox.base_url())?;
    // As the sandbox's admin user, an identity a real user has: a user who
    // may grant roles gets a new role granted to itself before granting it
    // to an OAuth client (see `plan::authz`); an OAuth client could not.
    let auth = Auth::AccessToken(sandbox.user_token().to_string().into());
    let mut config = ClientConfig::new(target, auth);
    // The in-process sandbox has no rate limit unless one is asked for.
    config.rate_limit_per_minute = global.rate_limit.unwrap_or(0);
    set_max_tokens(&mut config, global, printer);
    config.on_wait = wait_notices(printer);
    let client = Client::new(config)?;
    let target = PlanTarget::new("sandbox", SANDBOX_STATE);
    Ok(Connection { client, target, _sandbox: Some(sandbox) })
}

/// Load the manifest set on this thread while connecting and minting the
/// first token on `runtime`: a large set takes about as long to load as a
/// token round trip. `None` when loading failed (its diagnostics are
/// printed); the connection is then dropped unused.
pub fn load_while_connecting(
    runtime: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    env: Option<&str>,
    printer: &Printer,
    load: impl FnOnce() -> Option<ManifestSet>,
) -> anyhow::Result<Option<(ManifestSet, Connection)>> {
    let loaded = load_while_prefetching(runtime, global, env, printer, load, None)?;
    Ok(loaded.map(|(set, connection, _)| (set, connection)))
}

/// What to read while the set loads: see [`load_while_prefetching`].
#[derive(Debug, Clone)]
pub struct Prefetch<'a> {
    /// The paths the set is loaded from.
    pub paths: &'a [PathBuf],
    /// Whether the command reads the caller and the org
    /// ([`ReadScope::caller`](crate::plan::ReadScope::caller)).
    pub caller: bool,
    /// Told every page of the lists as it arrives (`gcctl plan`).
    pub early: Option<std::sync::Arc<crate::plan::Early>>,
    /// The lists decode what the declared fields need
    /// ([`ReadScope::lean`](crate::plan::ReadScope::lean)).
    pub lean: bool,
}

/// [`load_while_connecting`], and with `prefetch`, once the token is there,
/// start reading what the files appear to need ([`Prefetched::start`]: the
/// kinds they declare, the divisions, from
/// [`crate::manifest::declared_hint`], scanned while connecting; the caller)
/// while the set is still loading, for
/// [`plan::read_with`](crate::plan::read_with) to take. Only for commands
/// that read the org without a lock: apply reads it after taking its lock,
/// and a list read before would be stale. With `--env` outside the sandbox,
/// the connection (so the lists) waits for the set, whose environment may
/// name the org.
pub fn load_while_prefetching(
    runtime: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    env: Option<&str>,
    printer: &Printer,
    load: impl FnOnce() -> Option<ManifestSet>,
    prefetch: Option<Prefetch<'_>>,
) -> anyhow::Result<Option<(ManifestSet, Connection, Prefetched)>> {
    // With --env, the environment may name its org: connect once it is known.
    if env.is_some() && !global.sandbox {
        let Some(set) = load() else { return Ok(None) };
        let org = set.project.org_for(set.env.as_deref()).cloned();
        let connection = runtime.block_on(connect_to(global, org.as_ref(), printer))?;
        reading(printer, &connection);
        return Ok(Some((set, connection, Prefetched::default())));
    }
    let global = global.clone();
    let task_printer = printer.clone();
    let caller = prefetch.as_ref().is_some_and(|p| p.caller);
    let lean = prefetch.as_ref().is_some_and(|p| p.lean);
    let (paths, early) = match prefetch {
        Some(p) => (Some(p.paths.to_vec()), p.early),
        None => (None, None),
    };
    let connecting = runtime.spawn(async move {
        let hint = paths.map(|paths| {
            tokio::task::spawn_blocking(move || crate::manifest::declared_hint(&paths))
        });
        let connection = connect(&global, &task_printer).await?;
        connection.client.warm_up().await;
        let prefetched = match hint {
            // A hint that failed to come is no hint.
            Some(hint) => {
                let hint = hint.await.unwrap_or_default();
                Prefetched::start(&connection.client, &hint, caller, early.as_ref(), lean)
            }
            None => Prefetched::default(),
        };
        anyhow::Ok((connection, prefetched))
    });
    let Some(set) = load() else {
        // Aborting the task drops what it made: prefetched lists are aborted too.
        connecting.abort();
        return Ok(None);
    };
    let (connection, prefetched) =
        runtime.block_on(connecting).context("the connection task failed")??;
    reading(printer, &connection);
    Ok(Some((set, connection, prefetched)))
}

/// On a terminal only (not with `-q` or `--output json`: see
/// [`Printer::progress_enabled`]): say that the read starts (it can take a
/// while).
fn reading(printer: &Printer, connection: &Connection) {
    if printer.progress_enabled() {
        let target = &connection.target;
        printer.status(&format!("Reading the org ({} {})…", target.kind, target.location));
    }
}

/// Run a read of the org; on a terminal (with progress allowed, as for
/// `reading`), a read that takes more than two seconds reports how far it
/// got every two seconds (requests sent so far, elapsed time), so a slow
/// org never leaves the terminal blank.
pub async fn with_read_progress<F: std::future::Future>(
    client: &Client,
    printer: &Printer,
    read: F,
) -> F::Output {
    if !printer.progress_enabled() {
        return read.await;
    }
    let started = std::time::Instant::now();
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(2),
    );
    tokio::pin!(read);
    loop {
        tokio::select! {
            output = &mut read => return output,
            _ = ticks.tick() => {
                // Every request of the command: a plan's lists may have
                // started before the read, while its set loaded.
                let sent = client.stats().requests;
                printer.status(&format!(
                    "Reading the org: {sent} request{} so far, {:.0}s",
                    if sent == 1 { "" } else { "s" },
                    started.elapsed().as_secs_f64()
                ));
            }
        }
    }
}

/// A tokio runtime for one command.
pub fn runtime() -> anyhow::Result<CommandRuntime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map(|runtime| CommandRuntime(Some(runtime)))
        .context("cannot start the async runtime")
}

/// A command's runtime, shut down without waiting when the command is done: what a command
/// needs finished it has awaited, and an orderly shutdown would close each idle connection
/// of the client's pool one by one (after an apply of 1,000 creates, a thousand of them:
/// tens of milliseconds before the process could exit).
pub struct CommandRuntime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for CommandRuntime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &tokio::runtime::Runtime {
        // Taken only in `drop`.
        self.0.as_ref().unwrap_or_else(|| unreachable!("the runtime is taken only when dropped"))
    }
}

impl Drop for CommandRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
