//! The CLI reference in Markdown (`docs/src/reference/cli.md`), rendered
//! from the clap definition: every command's usage, description, arguments
//! and options.
//!
//! The output is deterministic and carries no version or date, so the
//! checked-in copy only goes stale when the CLI changes; a test compares it
//! with [`render`] and rewrites it under `GCCTL_UPDATE_DOCS=1`.

use clap::CommandFactory as _;

use crate::cli::Cli;

/// The header of the generated file, saying how to regenerate it.
const HEADER: &str = "<!-- Generated from the clap definitions by gcctl::cli::reference::render.\n     \
Do not edit: regenerate with `GCCTL_UPDATE_DOCS=1 cargo test --test it cli_reference`. -->\n";

/// The whole reference page.
pub fn render() -> String {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Building propagates global options and names subcommands `gcctl plan`.
    command.build();
    let mut out = String::from(HEADER);
    out.push_str("\n# CLI reference\n\n");
    out.push_str(
        "Every command with its arguments and options, as `gcctl <command> --help` prints \
         them.\nThe [global options](#gcctl) are accepted by every command, and so are `-h` (summary)\n\
         and `--help` (details); `gcctl --version` prints the version, commit and build date.\n",
    );
    render_command(&mut command, &mut out);
    out
}

fn render_command(command: &mut clap::Command, out: &mut String) {
    let name = command.get_bin_name().unwrap_or_else(|| command.get_name()).to_string();
    let top_level = !name.contains(' ');
    out.push_str(&format!("\n## {name}\n\n"));
    if let Some(about) = command.get_long_about().or_else(|| command.get_about()) {
        out.push_str(&format!("{}\n\n", sentence(&about.to_string())));
    }
    out.push_str(&format!("```text\n{}\n```\n", command.render_usage()));

    let subcommands: Vec<&clap::Command> =
        command.get_subcommands().filter(|sub| !sub.is_hide_set()).collect();
    if !subcommands.is_empty() {
        out.push_str("\n**Commands**\n\n");
        for sub in &subcommands {
            let about = sub.get_about().map(|about| sentence(&about.to_string()));
            let anchor = format!("{name}-{}", sub.get_name()).replace(' ', "-");
            out.push_str(&format!(
                "- [`{}`](#{anchor}): {}\n",
                sub.get_name(),
                about.unwrap_or_default()
            ));
        }
    }

    // Global options are listed once, at the top level; `--help` and
    // `--version` are everywhere and said so in the introduction.
    let visible = |arg: &&clap::Arg| {
        !arg.is_hide_set()
            && (top_level || !arg.is_global_set())
            && !matches!(
                arg.get_action(),
                clap::ArgAction::Help
                    | clap::ArgAction::HelpShort
                    | clap::ArgAction::HelpLong
                    | clap::ArgAction::Version
            )
    };
    let positionals: Vec<String> =
        command.get_positionals().filter(visible).map(render_arg).collect();
    let options: Vec<String> = command
        .get_arguments()
        .filter(|arg| !arg.is_positional())
        .filter(visible)
        .map(render_arg)
        .collect();
    if !positionals.is_empty() {
        out.push_str(&format!("\n**Arguments**\n\n{}", positionals.join("\n")));
    }
    if !options.is_empty() {
        let heading = if top_level { "Global options" } else { "Options" };
        out.push_str(&format!("\n**{heading}**\n\n{}", options.join("\n")));
    }

    let mut subcommands: Vec<clap::Command> =
        command.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned().collect();
    for sub in &mut subcommands {
        render_command(sub, out);
    }
}

/// One argument as a list item: its flags, then its help, possible values,
/// default and environment variable as paragraphs indented under it.
fn render_arg(arg: &clap::Arg) -> String {
    let mut item = String::from("- ");
    if let Some(short) = arg.get_short() {
        item.push_str(&format!("`-{short}`, "));
    }
    item.push_str(&format!("`{arg}`\n"));
    let mut paragraphs = Vec::new();
    if let Some(help) = arg.get_long_help().or_else(|| arg.get_help()) {
        paragraphs.push(sentence(&help.to_string()));
    }
    let takes_values = arg.get_action().takes_values();
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| match value.get_help() {
            Some(help) => format!("- `{}`: {}", value.get_name(), sentence(&help.to_string())),
            None => format!("- `{}`", value.get_name()),
        })
        .collect();
    if takes_values && !values.is_empty() {
        paragraphs.push(format!("Possible values:\n\n{}", values.join("\n")));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|value| format!("`{}`", value.to_string_lossy()))
        .collect();
    // A flag's default (`false`, `0`) says nothing.
    if takes_values && !defaults.is_empty() {
        paragraphs.push(format!("Default: {}.", defaults.join(", ")));
    }
    if let Some(env) = arg.get_env() {
        paragraphs.push(format!("Environment variable: `{}`.", env.to_string_lossy()));
    }
    for paragraph in paragraphs {
        item.push('\n');
        for line in paragraph.lines() {
            if line.trim().is_empty() {
                item.push('\n');
            } else {
                item.push_str(&format!("  {line}\n"));
            }
        }
    }
    item
}

/// Help text ends without a period in `--help` (clap strips it); the
/// reference reads as prose, so put it back.
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', ':', '!', '?']) || text.is_empty() {
        text.to_string()
    } else {
        format!("{text}.")
    }
}
