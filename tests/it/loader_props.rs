//! Property tests: no input makes the loader panic, and whatever it rejects
//! comes back as located diagnostics. Inputs: random text, manifest-shaped
//! fragments, YAML's syntax in pieces, and the repository's own manifests
//! mutated (characters cut or inserted, lines repeated, swapped, indented).

use std::path::PathBuf;

use gcctl::manifest::{self, LoadOptions, MemoryFiles, yaml};
use proptest::prelude::*;

use crate::common::{TestContext, repo_root, yaml_files};

/// Fragments that steer random text toward the interesting parts of the format.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("apiVersion: gcctl/v1\n".to_string()),
        Just("kind: RoutingQueue\n".to_string()),
        Just("kind: Webhook\n".to_string()),
        Just("kind: Project\n".to_string()),
        Just("metadata:\n  name: x\n".to_string()),
        Just("spec:\n".to_string()),
        Just("  name: ${var.a}\n".to_string()),
        Just("  signatureSecret: {fromEnv: X}\n".to_string()),
        Just("  mediaSettings: {call: {alertingTimeoutSeconds: 3}}\n".to_string()),
        Just("  webhook: nope\n".to_string()),
        Just("---\n".to_string()),
        Just("&a [*a]\n".to_string()),
        Just("- [\n".to_string()),
        Just("  ? complex\n".to_string()),
        "[ -~\\n\\t]{0,40}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn yaml_parser_never_panics(text in "\\PC{0,200}") {
        let _ = yaml::parse_documents(&text);
    }

    #[test]
    fn loader_never_panics_and_locates_every_problem(parts in prop::collection::vec(fragment(), 0..24)) {
        let ctx = TestContext::new();
        let path = ctx.write("m.yaml", &parts.concat());
        match manifest::load(&[path], &LoadOptions::default()) {
            Ok(set) => prop_assert!(set.objects.iter().all(|o| !o.name.is_empty())),
            Err(err) => {
                prop_assert!(!err.diagnostics.is_empty());
                for d in &err.diagnostics {
                    prop_assert!(!d.message.is_empty());
                }
            }
        }
    }
}

/// Pieces of YAML syntax (indicators, quotes and escapes, block scalar
/// headers, flow collections, anchors, tags, directives, line breaks of
/// every kind) and of what manifests hold, to be strung together.
fn piece() -> impl Strategy<Value = String> {
    #[rustfmt::skip]
    const PIECES: [&str; 50] = [
        " ", "  ", "\t", "- ", "-", ": ", ":", "#", " #", "\"", "'", "\\", "\\u00e9", "\\x",
        "\\U0001F600", "|", ">", "|-", ">+", "|2", "[", "]", "{", "}", ",", "&a", "*a", "!!str",
        "? ", "---", "...", "%YAML 1.2", "${var.a}", "${", "é", "日本", "\u{feff}", "\u{2028}", "\r",
        "\r\n", "\n", "key", "name", "1.5e3", "0x1F", "true", "~", "null", "spec:", "kind:",
    ];
    prop_oneof![
        3 => prop::sample::select(&PIECES[..]).prop_map(str::to_string),
        1 => "[a-z0-9 ]{0,8}",
        1 => "\\PC{0,3}",
    ]
}

/// The text of every manifest under `manifests/` and `examples/`.
fn repository_manifests() -> Vec<String> {
    let mut files = Vec::new();
    yaml_files(&repo_root().join("manifests"), &mut files);
    yaml_files(&repo_root().join("examples"), &mut files);
    files.iter().map(|path| fs_err::read_to_string(path).unwrap()).collect()
}

/// One change to a manifest's text.
#[derive(Debug, Clone)]
enum Mutation {
    /// Cut up to this many characters from a position.
    Cut(usize, usize),
    Insert(usize, String),
    RepeatLine(usize),
    Indent(usize, usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..20).prop_map(|(at, n)| Mutation::Cut(at, n)),
        (any::<usize>(), piece()).prop_map(|(at, text)| Mutation::Insert(at, text)),
        any::<usize>().prop_map(Mutation::RepeatLine),
        (any::<usize>(), 0usize..6).prop_map(|(at, n)| Mutation::Indent(at, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

/// `text` with `mutation` made (positions wrap around the text's length).
fn mutate(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    // `split` gives at least one line, so `% lines` never divides by zero.
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let n = lines.len();
    match mutation {
        Mutation::Cut(at, len) => {
            let start = at % (chars.len() + 1);
            let end = (start + len).min(chars.len());
            return chars[..start].iter().chain(&chars[end..]).collect();
        }
        Mutation::Insert(at, piece) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(piece);
            out.extend(&chars[at..]);
            return out;
        }
        Mutation::RepeatLine(at) => lines.insert(at % n, lines[at % n].clone()),
        Mutation::Indent(at, spaces) => lines[at % n].insert_str(0, &" ".repeat(*spaces)),
        Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn yaml_syntax_in_pieces_never_panics(pieces in prop::collection::vec(piece(), 0..60)) {
        let _ = yaml::parse_documents(&pieces.concat());
    }

    #[test]
    fn mutated_repository_manifests_load_or_are_located(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        beside in prop::option::of(any::<usize>()),
    ) {
        thread_local! {
            static MANIFESTS: Vec<String> = repository_manifests();
        }
        let (text, other) = MANIFESTS.with(|m| {
            let text = mutations.iter().fold(m[which % m.len()].clone(), |t, x| mutate(&t, x));
            (text, beside.map(|b| m[b % m.len()].clone()))
        });
        let mut files = MemoryFiles::new();
        files.insert(PathBuf::from("mutated.yaml"), text.as_str());
        if let Some(other) = &other {
            files.insert(PathBuf::from("other.yaml"), other.as_str());
        }
        if let Err(err) = manifest::load_memory(&files) {
            prop_assert!(!err.diagnostics.is_empty());
            for d in &err.diagnostics {
                prop_assert!(!d.message.is_empty());
            }
        }
    }
}
