//! What `gcctl apply` says and asks on the terminal: the plan, the
//! confirmation, the interrupts, each change as it happens and the summary.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use tokio::sync::mpsc;

use super::{ApplyArgs, ApplyOutput};
use crate::api::untrusted::{quoted, visible};
use crate::apply::{self, ApplySettings, ApplySummary, Event, EventKind};
use crate::cli::{Outcome, hinted};
use crate::plan::Plan;
use crate::plan::saved::RunCommand;
use crate::printer::{Printer, Role};
use crate::render;

/// Where an apply is, for its interrupts: see [`watch_interrupts`].
#[derive(Debug, Clone, Default)]
pub(super) struct Phase(std::sync::Arc<std::sync::atomic::AtomicU8>);

impl Phase {
    const BEFORE: u8 = 0;
    const APPLYING: u8 = 1;
    const STOPPED: u8 = 2;

    /// Changes start now, unless an interrupt came first: then this waits
    /// for the watcher, which ends the process.
    pub(super) async fn start_applying(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        if self.0.compare_exchange(Self::BEFORE, Self::APPLYING, SeqCst, SeqCst).is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Stop before any change, unless changes have started.
    fn stop_before(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.0.compare_exchange(Self::BEFORE, Self::STOPPED, SeqCst, SeqCst).is_ok()
    }
}

/// Wait for Ctrl-C or SIGTERM, from the start of the command (so that an
/// interrupt is never lost, also where the shell started gcctl with
/// interrupts ignored, as `cmd &` in a script does). Before any change an
/// interrupt ends the run at once with 130: nothing was changed. Once changes
/// run, the first interrupts the run (no change starts; those running get
/// [`ApplySettings::INTERRUPT_GRACE`] to finish), the second exits at once
/// with 130.
pub(super) async fn watch_interrupts(interrupt: apply::Interrupt, phase: Phase, printer: Printer) {
    crate::cli::wait_for_signal().await;
    if phase.stop_before() {
        printer.diagnostic("Interrupted before any change: nothing was changed.");
        std::process::exit(130);
    }
    interrupt.trigger();
    printer.diagnostic(&format!(
        "Interrupted: no further change starts; the changes running get up to {}s to finish. Press Ctrl-C again to exit at once.",
        ApplySettings::INTERRUPT_GRACE.as_secs()
    ));
    crate::cli::wait_for_signal().await;
    printer.diagnostic("Interrupted again: exiting now; the next apply finds out what was made.");
    std::process::exit(130);
}

pub(super) fn show_plan(plan: &Plan, args: &ApplyArgs, printer: &Printer) -> anyhow::Result<()> {
    if args.output == ApplyOutput::Json {
        printer.data(&render::json::apply_plan(plan))?;
        return Ok(());
    }
    // The plan says which prunes it leaves out (without --prune).
    printer.data(&render::text::plan(plan, printer))?;
    Ok(())
}

/// Ask on a terminal; refuse without one unless --auto-approve, with the
/// commands that would run this apply without asking, as they are.
pub(super) fn confirm(
    args: &ApplyArgs,
    rerun: &RunCommand,
    printer: &Printer,
) -> anyhow::Result<()> {
    if args.auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        let hint = match &args.plan {
            Some(path) => format!(
                "review the plan above, then run `{} --auto-approve`",
                rerun.apply_saved(path)
            ),
            None => {
                let file = std::path::Path::new("plan.json");
                format!(
                    "review the plan above, then run `{}`; in CI, save a plan for review with `{}` and apply it with `{} --auto-approve`",
                    rerun.apply(),
                    rerun.plan(Some(file)),
                    rerun.apply_saved(file)
                )
            }
        };
        let run = if rerun.destroy { "destroy" } else { "apply" };
        return Err(hinted(
            format!("refusing to {run} without confirmation: there is no terminal to ask on"),
            hint,
        ));
    }
    printer.status(if rerun.destroy {
        "Delete these objects? Only 'yes' is accepted:"
    } else {
        "Apply these changes? Only 'yes' is accepted:"
    });
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).context("cannot read the answer")?;
    if answer.trim() != "yes" {
        if rerun.destroy {
            bail!("destroy cancelled; nothing was deleted");
        }
        bail!("apply cancelled; nothing was changed");
    }
    Ok(())
}

/// Print events as they come: in JSON, every event as a line on stdout; in
/// text, progress and outcomes on stderr, each failure once as
/// `error:` / `Caused by:` / `hint:` when it happens.
///
/// On a terminal (stderr, not with `-q`), each line that ends a change
/// carries a counter and the elapsed time (`[12/35 4.2s]`), and `started`
/// lines show what is in flight.
pub(super) async fn report_events(
    mut events: mpsc::UnboundedReceiver<Event>,
    output: ApplyOutput,
    printer: Printer,
    total: usize,
) {
    let started = std::time::Instant::now();
    let mut done = 0;
    while let Some(event) = events.recv().await {
        let ends = !matches!(event.event, EventKind::Started | EventKind::Unchanged);
        if ends {
            done += 1;
        }
        let progress = if printer.progress_enabled() && ends {
            format!("[{done}/{total} {:.1}s] ", started.elapsed().as_secs_f64())
        } else {
            String::new()
        };
        if output == ApplyOutput::Json {
            // A closed stdout ends the output, not the run: the summary write reports it.
            let _ = printer.data(&render::json::apply_event(&event));
            continue;
        }
        match (&event.event, &event.error) {
            (EventKind::Failed, Some(failure)) => {
                if !progress.is_empty() {
                    // A prune's line names it as the other lines do.
                    let name = event
                        .kind_only
                        .map(|_| format!(" {}", quoted(&event.org_name)))
                        .unwrap_or_default();
                    printer.status(&format!("{progress}failed {}{name}", shown_object(&event)));
                }
                printer.error(&failure.message, &failure.causes, failure.hint.as_deref());
            }
            (EventKind::Unchanged, _) => {}
            (EventKind::Started, _) if !printer.progress_enabled() => {}
            _ => {
                // The address, the name, the id and the message may hold the
                // org's text;
                // a message keeps its own lines (a web deployment's snippet).
                let message = event
                    .message
                    .as_deref()
                    .map(|m| format!(": {}", crate::api::untrusted::visible_lines(m)))
                    .unwrap_or_default();
                let id = event
                    .id
                    .as_deref()
                    .map(|i| format!(" (id {})", visible(i)))
                    .unwrap_or_default();
                printer.status(&format!(
                    "{progress}{} {} {}{id}{message}",
                    event.event.as_str(),
                    shown_object(&event),
                    quoted(&event.org_name)
                ));
            }
        }
    }
}

/// The object of a progress line: `Kind/handle`, or the kind alone for a
/// change without a manifest (a prune: its org name follows, quoted, so a
/// name with spaces or a `/` reads as one), as the plan shows it.
fn shown_object(event: &Event) -> String {
    match event.kind_only {
        Some(kind) => kind.to_string(),
        None => visible(&event.object).into_owned(),
    }
}

/// The summary line; failures were reported as they happened, so the end
/// only counts them. `signalled`: an interrupt came while changes ran; the
/// run ends with 130 even when every change had started and all of them
/// finished (then it says so).
pub(super) fn finish(
    summary: &ApplySummary,
    output: ApplyOutput,
    destroy: bool,
    signalled: bool,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let s = summary;
    let mut line = format!(
        "{} created, {} updated, {} deleted, {} unchanged, {} failed, {} skipped",
        s.created, s.updated, s.deleted, s.unchanged, s.failed, s.skipped
    );
    if s.was_interrupted() {
        line.push_str(&format!(", {} interrupted, {} not started", s.interrupted, s.not_started));
    }
    if s.checks_failed > 0 {
        line.push_str(&format!(
            "; the check for duplicates after the run failed {} time{}",
            s.checks_failed,
            if s.checks_failed == 1 { "" } else { "s" }
        ));
    }
    let interrupted = signalled || summary.was_interrupted();
    if output == ApplyOutput::Json {
        printer.data(&render::json::apply_summary(summary, interrupted))?;
    } else if summary.converged() && interrupted {
        // Not a status line: the exit code is 130.
        printer.diagnostic(&format!(
            "{} {line}.",
            printer.paint_stderr(
                "Interrupted after every change had started; all of them finished:",
                Role::Heading,
            )
        ));
    } else if summary.converged() {
        printer.status(&format!(
            "{} {line}.",
            printer.paint_stderr(
                if destroy { "Destroy complete:" } else { "Apply complete:" },
                Role::Heading,
            )
        ));
    } else {
        let where_reported = match s.failed + s.checks_failed {
            0 => String::new(),
            1 => " The failure is reported above.".to_string(),
            n => format!(" The {n} failures are reported above."),
        };
        // Not a status line: an exit code other than 0 always comes with its reason.
        let heading = match (destroy, s.was_interrupted()) {
            (false, true) => "Apply interrupted (run it again to converge):",
            (false, false) => "Apply did not converge:",
            (true, true) => "Destroy interrupted (run it again to finish):",
            (true, false) => "Destroy did not finish:",
        };
        printer.diagnostic(&format!(
            "{} {line}.{where_reported}",
            printer.paint_stderr(heading, Role::Error)
        ));
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else if summary.converged() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}
