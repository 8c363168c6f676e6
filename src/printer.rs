//! All terminal output goes through here. stdout carries data only (plans,
//! reports, schemas); stderr carries status, progress and diagnostics. Color is
//! used only when the stream is a terminal and `NO_COLOR` is unset, and it never
//! carries meaning alone: every colored line also has a textual marker.
//!
//! A closed stdout (`gcctl plan | head`) is not an error: writes report
//! `BrokenPipe` and the CLI exits quietly.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, IsTerminal, Write};

use owo_colors::{OwoColorize, Style};

use crate::api::untrusted::visible_lines;

/// When to color output, as chosen by `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Color when the stream is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Semantic styles; the renderers pick a role, the printer decides the look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Add,
    Remove,
    Change,
    Heading,
    Dim,
    Error,
    Warning,
    Hint,
}

impl Role {
    fn style(self) -> Style {
        match self {
            Role::Add => Style::new().green(),
            Role::Remove => Style::new().red(),
            Role::Change => Style::new().yellow(),
            Role::Heading => Style::new().bold(),
            Role::Dim => Style::new().dimmed(),
            Role::Error => Style::new().red().bold(),
            Role::Warning => Style::new().yellow().bold(),
            Role::Hint => Style::new().cyan().bold(),
        }
    }
}

/// The one writer of terminal output.
#[derive(Debug, Clone)]
pub struct Printer {
    stdout_color: bool,
    stderr_color: bool,
    stderr_is_tty: bool,
    quiet: bool,
    /// Whether the command allows progress at all (not with machine output).
    progress: bool,
}

impl Printer {
    /// Decide coloring once, from the choice, `NO_COLOR` and the streams.
    pub fn new(choice: ColorChoice, quiet: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        let stderr_is_tty = io::stderr().is_terminal();
        Printer {
            stdout_color: decide(io::stdout().is_terminal()),
            stderr_color: decide(stderr_is_tty),
            stderr_is_tty,
            quiet,
            progress: true,
        }
    }

    /// A printer that never colors, for tests and machine output.
    pub fn plain() -> Self {
        Printer {
            stdout_color: false,
            stderr_color: false,
            stderr_is_tty: false,
            quiet: false,
            progress: false,
        }
    }

    /// Whether stdout output should be colored (renderers ask before styling).
    pub fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    /// Whether progress may be drawn: stderr is an interactive terminal, not
    /// `-q`, and the command's output is not for machines.
    pub fn progress_enabled(&self) -> bool {
        self.stderr_is_tty && !self.quiet && self.progress
    }

    /// The same printer, with progress allowed only if `allowed` (off for
    /// `--output json`: what reads the output is a program, whatever stderr is).
    #[must_use]
    pub fn with_progress(&self, allowed: bool) -> Printer {
        Printer { progress: self.progress && allowed, ..self.clone() }
    }

    /// Style `text` for stdout according to `role`, if coloring is on.
    pub fn paint_stdout(&self, text: &str, role: Role) -> String {
        paint(text, role, self.stdout_color)
    }

    /// Style `text` for stderr according to `role`, if coloring is on.
    pub fn paint_stderr(&self, text: &str, role: Role) -> String {
        paint(text, role, self.stderr_color)
    }

    /// Write data to stdout. Returns `BrokenPipe` when the reader went away.
    pub fn data(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Write a status line to stderr (suppressed by `--quiet`).
    pub fn status(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(io::stderr().lock(), "{line}");
        }
    }

    /// Write a diagnostic to stderr; never suppressed.
    pub fn diagnostic(&self, text: &str) {
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = err.write_all(b"\n");
        }
    }

    /// `error: <message>` with `Caused by:` lines and an optional hint.
    /// Each part may quote the org's text (a name, an id): its control
    /// characters show as escapes ([`visible_lines`]).
    pub fn error(&self, message: &str, causes: &[String], hint: Option<&str>) {
        let message = visible_lines(message);
        let mut text = format!("{} {message}\n", self.paint_stderr("error:", Role::Error));
        for cause in causes {
            let cause = visible_lines(cause);
            text.push_str(&format!("  {} {cause}\n", self.paint_stderr("Caused by:", Role::Dim)));
        }
        if let Some(hint) = hint.map(visible_lines) {
            text.push_str(&format!("{} {hint}\n", self.paint_stderr("hint:", Role::Hint)));
        }
        self.diagnostic(&text);
    }
}

fn paint(text: &str, role: Role, on: bool) -> String {
    if on { text.style(role.style()).to_string() } else { text.to_string() }
}
