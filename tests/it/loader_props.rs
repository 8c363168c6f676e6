//! Property tests: no input makes the loader panic, and whatever it rejects
//! comes back as located diagnostics.

use gcctl::manifest::{self, LoadOptions, yaml};
use proptest::prelude::*;

use crate::common::TestContext;

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
