//! The documentation holds together, offline: the generated kinds reference
//! is current (`GCCTL_UPDATE_DOCS=1` rewrites it), every relative link and
//! image of the README and the book points to a file that exists (and an
//! `#anchor` to a heading of that file), every page of the book is in its
//! `SUMMARY.md`, and the published benchmark figures are of one run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::repo_root;

// The benchmark's own number formats.
#[path = "../../benches/gcctl/format.rs"]
mod format;
use format::{seconds, thousands};

const KINDS_REFERENCE: &str = "docs/src/reference/kinds.md";

#[test]
fn kinds_reference_is_current() {
    let path = repo_root().join(KINDS_REFERENCE);
    let generated = gcctl::manifest::reference::kinds_markdown();
    if std::env::var_os("GCCTL_UPDATE_DOCS").is_some_and(|v| v == "1") {
        // Written aside, then renamed: the link test, running at the same
        // time, reads either the old file or the new one, never half of it.
        let temporary = path.with_extension("md.tmp");
        fs_err::write(&temporary, &generated).unwrap();
        fs_err::rename(&temporary, &path).unwrap();
        return;
    }
    let checked_in = fs_err::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{KINDS_REFERENCE} is stale: run `GCCTL_UPDATE_DOCS=1 cargo test --locked --test it docs` \
         and commit the result"
    );
}

/// `README.md` and every Markdown file of the book's sources.
fn markdown_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    collect_markdown(&root.join("docs/src"), &mut files);
    files.sort();
    files
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs_err::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_markdown(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push(line);
        }
    }
    lines
}

/// Targets of the inline links and images (`[text](target)`, `![alt](target)`)
/// and of reference definitions (`[label]: target`) of a Markdown text, outside
/// code blocks and code spans.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut in_code = false;
        for (i, c) in line.char_indices() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code && line[i..].starts_with("](") {
                let rest = &line[i + 2..];
                let end = rest.find(')').unwrap_or(rest.len());
                let target = rest[..end].split_whitespace().next().unwrap_or("");
                targets.push(target.trim_matches(['<', '>']).to_string());
            }
        }
        let trimmed = line.trim_start();
        if let Some(definition) = trimmed.strip_prefix('[').and_then(|d| d.split_once("]: ")) {
            targets.push(definition.1.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    targets
}

/// The anchors of a Markdown file's headings, as mdBook and GitHub make them:
/// lowercase, spaces to `-`, punctuation dropped, `-1`, `-2` on repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    for line in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let heading = line[hashes..].trim().trim_end_matches('#').trim();
        let heading = strip_links(heading).replace('`', "");
        let base: String = heading
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    Some(c.to_ascii_lowercase())
                } else if c.is_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        let mut anchor = base.clone();
        let mut repeat = 0;
        while anchors.contains(&anchor) {
            repeat += 1;
            anchor = format!("{base}-{repeat}");
        }
        anchors.insert(anchor);
    }
    anchors
}

/// `[text](target)` becomes `text`.
fn strip_links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](").map(|m| open + m) else { break };
        let Some(close) = rest[mid..].find(')').map(|c| mid + c) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..mid]);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn relative_links_point_to_existing_files_and_headings() {
    let root = repo_root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = fs_err::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        for target in link_targets(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap_or(&root).join(path)
            };
            checked += 1;
            if !resolved.exists() {
                broken.push(format!("{shown}: `{target}`: no such file"));
                continue;
            }
            let is_markdown = resolved.extension().is_some_and(|e| e == "md");
            if !anchor.is_empty() && is_markdown {
                let target_text = fs_err::read_to_string(&resolved).unwrap();
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{shown}: `{target}`: no heading with anchor `#{anchor}`"));
                }
            }
        }
    }
    assert!(checked > 50, "links were found ({checked})");
    assert!(broken.is_empty(), "broken links:\n  {}", broken.join("\n  "));
}

#[test]
fn every_page_of_the_book_is_in_the_summary() {
    let src = repo_root().join("docs/src");
    let summary = fs_err::read_to_string(src.join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<PathBuf> = link_targets(&summary)
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| src.join(t.split('#').next().unwrap_or(t)))
        .collect();
    let mut pages = Vec::new();
    collect_markdown(&src, &mut pages);
    let missing: Vec<String> = pages
        .iter()
        .filter(|page| page.file_name().is_some_and(|n| n != "SUMMARY.md"))
        .filter(|page| !listed.contains(*page))
        .map(|page| page.strip_prefix(&src).unwrap_or(page).display().to_string())
        .collect();
    assert!(missing.is_empty(), "pages of docs/src missing from SUMMARY.md: {missing:?}");
}

#[test]
fn anchors_follow_mdbook() {
    let text = "# gcctl\n## The `plan` command\n## Retries, rate limit, concurrency\n\
                ```sh\n# not a heading\n```\n## Plan\n## Plan\n## [Link](x.md) here\n";
    let expected: BTreeSet<String> = [
        "gcctl",
        "the-plan-command",
        "retries-rate-limit-concurrency",
        "plan",
        "plan-1",
        "link-here",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(anchors(text), expected);
    assert_eq!(
        link_targets("[a](b.md#c) and ![i](img.png \"t\") `[x](y)`\n[r]: ref.md\n"),
        ["b.md#c", "img.png", "ref.md"]
    );
}

/// The published benchmark run holds together: the chart (`benchmarks.svg`)
/// and the "Latest figures" of `benchmarks.md` are those of the JSON in
/// `benches/results/latest.json` (the three are copied by hand from one run
/// of `cargo bench --bench gcctl`): the chart names the run's date and
/// commit, the text names the commit, and the table has each scenario's
/// requests and wall time as the benchmark prints them.
#[test]
fn published_benchmark_figures_are_of_one_run() {
    let root = repo_root();
    let json = fs_err::read_to_string(root.join("benches/results/latest.json")).unwrap();
    let run: serde_json::Value = serde_json::from_str(&json).unwrap();
    let svg = fs_err::read_to_string(root.join("docs/src/benchmarks.svg")).unwrap();
    let page = fs_err::read_to_string(root.join("docs/src/benchmarks.md")).unwrap();
    let (date, commit) = (run["date"].as_str().unwrap(), run["git_commit"].as_str().unwrap());
    assert!(svg.contains(date) && svg.contains(commit), "the chart is not of the {date} run");
    let latest = &page[page.find("## Latest figures").expect("a Latest figures section")..];
    let short = &commit[..7];
    assert!(latest.contains(&format!("`{short}`")), "benchmarks.md does not name commit {short}");
    for outcome in run["outcomes"].as_array().unwrap() {
        let id = outcome["id"].as_str().unwrap();
        let row = latest
            .lines()
            .find(|line| line.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no row for {id} in the Latest figures table"));
        let wall = seconds(outcome["usage"]["wall_s"].as_f64().unwrap());
        assert!(row.contains(&format!("| {wall} |")), "{id}: the JSON says {wall}: {row}");
        if let Some(requests) = outcome["api_requests"].as_u64() {
            let requests = thousands(requests);
            assert!(row.contains(&format!("| {requests} |")), "{id}: {requests} requests: {row}");
        }
    }
}
