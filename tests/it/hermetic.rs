//! The tests run in any clone: no test source names a path outside the crate.
//!
//! A test that reads the steering repository's folder beside the checkout
//! (the API reference) passes in the developer's workspace and
//! fails everywhere else, so this guard scans the test code (`tests/**/*.rs`,
//! `benches/**/*.rs`, and the `#[cfg(test)]` code of `src/**/*.rs`) for string
//! literals that climb out of the crate: a `..` path component that goes
//! above the crate root (where cargo runs tests and where `CARGO_MANIFEST_DIR`
//! points; `#[path = ...]` is resolved from its file's directory), any path
//! into that sibling folder, and `CARGO_MANIFEST_DIR` or `repo_root()` followed by
//! `.parent()`/`.ancestors()` in the same expression. It reads the source as
//! text (comments skipped), so it is fast and needs no parser.
//!
//! The proof that the suite really runs elsewhere is the slow, ignored
//! `the_suite_passes_in_a_fresh_clone`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{files_with, repo_root};

#[test]
fn no_test_reads_outside_the_crate() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["tests", "benches"] {
        files_with(&root.join(dir), &["rs"], &mut files);
    }
    let mut sources = Vec::new();
    files_with(&root.join("src"), &["rs"], &mut sources);
    let mut problems = Vec::new();
    let mut test_modules = Vec::new();
    for file in &sources {
        let text = fs_err::read_to_string(file).unwrap();
        let scan = Scan::new(&text);
        let (regions, modules) = scan.test_regions(file);
        test_modules.extend(modules);
        problems.extend(scan.climbs(&root, file, Some(&regions)));
    }
    // Files that are test code as a whole: `#[cfg(test)] mod tests;`.
    files.extend(test_modules.into_iter().filter(|f| f.is_file()));
    for file in &files {
        let text = fs_err::read_to_string(file).unwrap();
        problems.extend(Scan::new(&text).climbs(&root, file, None));
    }
    assert!(files.len() > 20, "only {} test files found", files.len());
    assert!(
        problems.is_empty(),
        "test code reads outside the crate, so the tests fail in a fresh clone; \
         copy what they need under tests/fixtures/ instead:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_guard_catches_every_way_out() {
    // Built at run time so that this file itself stays clean.
    let up = ".".repeat(2);
    let sibling = ["sha", "red"].concat();
    let sample = r#"
        const A: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/UP/SIBLING/models.json");
        fn b() { let _ = Path::new(env!("CARGO_MANIFEST_DIR")).join("UP").join("x"); }
        fn c() { let _ = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent(); }
        fn d() { let _ = format!("{}/UP/SIBLING/x", repo_root().display()); }
        fn e() { let _ = repo_root().ancestors(); }
        // "UP/SIBLING" in a comment is fine, and so are these:
        #[path = "UP/UP/benches/gcctl/bounds.rs"]
        mod bounds;
        fn f() { let _ = ("...", "a/UP/b", "{a}UP{b}", '"', r"x"); }
    "#
    .replace("UP", &up)
    .replace("SIBLING", &sibling);
    let root = Path::new("/crate");
    let problems = Scan::new(&sample).climbs(root, &root.join("tests/it/x.rs"), None);
    let lines: Vec<&str> = problems.iter().map(|p| p.split(": ").next().unwrap()).collect();
    let file = "tests/it/x.rs";
    let expected: Vec<String> = [2, 3, 4, 6, 7].iter().map(|l| format!("{file}:{l}")).collect();
    assert_eq!(lines, expected, "{problems:#?}");

    let src = "fn lib() { let _ = \"UP\"; }\n#[cfg(test)]\nmod tests {\n    const X: &str = \"UP/x\";\n}\n#[cfg(test)]\nmod more;\n"
        .replace("UP", &up);
    let scan = Scan::new(&src);
    let file = root.join("src/api/mod.rs");
    let (regions, modules) = scan.test_regions(&file);
    assert_eq!(modules, vec![root.join("src/api/more.rs")]);
    let problems = scan.climbs(root, &file, Some(&regions));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("src/api/mod.rs:4"), "{problems:#?}");
}

/// Clone the committed state of this repository to a temporary directory and
/// run `cargo test --locked` there with a fresh target directory, outside
/// the checkout: the real proof that nothing reads outside the repository.
/// Slow (a cold build: minutes), hence ignored:
///
/// ```text
/// cargo test --test it -- --ignored the_suite_passes_in_a_fresh_clone
/// ```
///
/// Uncommitted changes are not part of the clone.
#[test]
#[ignore = "slow: clones the repository and runs the whole suite cold"]
fn the_suite_passes_in_a_fresh_clone() {
    let scratch = tempfile::tempdir().unwrap();
    let clone = scratch.path().join("gcctl");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(repo_root())
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success(), "git clone failed");
    let status = Command::new(env!("CARGO"))
        .args(["test", "--locked"])
        .current_dir(&clone)
        .env("CARGO_TARGET_DIR", scratch.path().join("target"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo test --locked failed in a fresh clone");
}

/// One source file: its string literals, and its code with comments and
/// literals blanked (newlines kept) so braces and `;` can be matched.
struct Scan {
    code: Vec<char>,
    /// (char offset of the opening quote, contents as written).
    literals: Vec<(usize, String)>,
}

impl Scan {
    fn new(text: &str) -> Scan {
        let chars: Vec<char> = text.chars().collect();
        let mut code = chars.clone();
        let mut literals = Vec::new();
        let blank = |code: &mut Vec<char>, from: usize, to: usize| {
            for c in &mut code[from..to.min(chars.len())] {
                if *c != '\n' {
                    *c = ' ';
                }
            }
        };
        let ident = |i: usize| i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let mut i = 0;
        while i < chars.len() {
            let rest = &chars[i..];
            if rest.starts_with(&['/', '/']) {
                let end = chars[i..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| i + p);
                blank(&mut code, i, end);
                i = end;
            } else if rest.starts_with(&['/', '*']) {
                let mut depth = 0;
                let mut j = i;
                while j < chars.len() {
                    if chars[j..].starts_with(&['/', '*']) {
                        depth += 1;
                        j += 2;
                    } else if chars[j..].starts_with(&['*', '/']) {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut code, i, j);
                i = j;
            } else if chars[i] == '"' {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '"' {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                literals.push((i, chars[i + 1..j.min(chars.len())].iter().collect()));
                blank(&mut code, i + 1, j);
                i = j + 1;
            } else if (chars[i] == 'r' || rest.starts_with(&['b', 'r'])) && !ident(i) {
                let start = if chars[i] == 'b' { i + 2 } else { i + 1 };
                let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
                if chars.get(start + hashes) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let open = start + hashes;
                let mut close: Vec<char> = vec!['"'];
                close.extend(std::iter::repeat_n('#', hashes));
                let body = open + 1;
                let end = (body..chars.len())
                    .find(|&j| chars[j..].starts_with(&close))
                    .unwrap_or(chars.len());
                literals.push((open, chars[body..end].iter().collect()));
                blank(&mut code, body, end);
                i = end + close.len();
            } else if chars[i] == '\'' {
                // A char literal ('x', '\n', '"'), or a lifetime ('a), which is code.
                let end = if chars.get(i + 1) == Some(&'\\') {
                    (i + 2..chars.len()).find(|&j| chars[j] == '\'')
                } else {
                    (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
                };
                match end {
                    Some(end) => {
                        blank(&mut code, i + 1, end);
                        i = end + 1;
                    }
                    None => i += 1,
                }
            } else {
                i += 1;
            }
        }
        Scan { code, literals }
    }

    /// The `#[cfg(test)]` items of a library file as char ranges, and the
    /// files of `#[cfg(test)] mod NAME;` declarations.
    fn test_regions(&self, file: &Path) -> (Vec<(usize, usize)>, Vec<PathBuf>) {
        let marker: Vec<char> = "#[cfg(test)]".chars().collect();
        let mut regions = Vec::new();
        let mut modules = Vec::new();
        for start in (0..self.code.len()).filter(|&i| self.code[i..].starts_with(&marker)) {
            let after = start + marker.len();
            let Some(open) = (after..self.code.len()).find(|&j| matches!(self.code[j], '{' | ';'))
            else {
                continue;
            };
            if self.code[open] == ';' {
                let item: String = self.code[after..open].iter().collect();
                if let Some(name) = item.trim().strip_prefix("mod ") {
                    let dir = if ["mod.rs", "lib.rs", "main.rs"].iter().any(|f| file.ends_with(f)) {
                        file.parent().unwrap().to_path_buf()
                    } else {
                        file.with_extension("")
                    };
                    modules.push(dir.join(format!("{}.rs", name.trim())));
                }
                regions.push((start, open));
                continue;
            }
            let mut depth = 0;
            let end = (open..self.code.len())
                .find(|&j| {
                    match self.code[j] {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .unwrap_or(self.code.len());
            regions.push((start, end));
        }
        (regions, modules)
    }

    /// Every way out of the crate, as `path:line: what`; only inside
    /// `regions` when given.
    fn climbs(&self, root: &Path, file: &Path, regions: Option<&[(usize, usize)]>) -> Vec<String> {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let inside =
            |at: usize| regions.is_none_or(|r| r.iter().any(|&(s, e)| (s..e).contains(&at)));
        let line = |at: usize| 1 + self.code[..at].iter().filter(|&&c| c == '\n').count();
        let steering = [".", ".", "/", "sha", "red"].concat();
        let mut problems = Vec::new();
        for (at, literal) in self.literals.iter().filter(|(at, _)| inside(*at)) {
            let before: String = self.code[at.saturating_sub(40)..*at]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            // `#[path]` is relative to its file's directory; run-time paths to the crate root.
            let base_depth = if before.ends_with("#[path=") {
                relative.parent().map_or(0, |p| p.components().count())
            } else {
                0
            };
            if literal.contains(&steering) || climbs_above(literal, base_depth) {
                problems.push(format!(
                    "{}:{}: \"{literal}\" points outside the crate",
                    relative.display(),
                    line(*at)
                ));
            }
        }
        // `CARGO_MANIFEST_DIR` or `repo_root()`, then `.parent()` in the same expression.
        let anchors = self
            .literals
            .iter()
            .filter(|(_, l)| l == "CARGO_MANIFEST_DIR")
            .map(|(at, _)| *at)
            .chain(self.find("repo_root()"));
        for at in anchors.filter(|&at| inside(at)) {
            let end = (at..self.code.len())
                .find(|&j| matches!(self.code[j], ';' | '{' | '}'))
                .unwrap_or(self.code.len());
            let expression: String =
                self.code[at..end].iter().filter(|c| !c.is_whitespace()).collect();
            if expression.contains(".parent()") || expression.contains(".ancestors()") {
                problems.push(format!(
                    "{}:{}: the crate root's parent is outside the crate",
                    relative.display(),
                    line(at)
                ));
            }
        }
        problems.sort_by_key(|p| {
            let number = p.split(':').nth(1).and_then(|n| n.parse::<usize>().ok());
            number.unwrap_or(0)
        });
        problems
    }

    fn find(&self, needle: &str) -> Vec<usize> {
        let needle: Vec<char> = needle.chars().collect();
        (0..self.code.len()).filter(|&i| self.code[i..].starts_with(&needle)).collect()
    }
}

/// Whether a path literal, resolved from `depth` directories below the crate
/// root, goes above it. A format placeholder (`{root}`) could be anything, so
/// it does not count as a directory.
fn climbs_above(literal: &str, depth: usize) -> bool {
    let mut depth = isize::try_from(depth).unwrap();
    for component in literal.split(['/', '\\']) {
        // `..` is spelled by its length so that this guard does not flag itself.
        let parent = component.len() == 2 && component.chars().all(|c| c == '.');
        let placeholder = component.starts_with('{') && component.ends_with('}');
        if parent {
            depth -= 1;
        } else if !(component.is_empty() || component == "." || placeholder) {
            depth += 1;
        }
        if depth < 0 {
            return true;
        }
    }
    false
}
