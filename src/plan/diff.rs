//! The field diff: desired spec-shaped JSON against the live object in the
//! same shape. Only declared fields are compared ("we own what we declare"):
//! the walk follows the desired value, so fields the manifest does not
//! mention never show up. Numbers compare by value (`30` equals `30.0`),
//! lists named as sets compare without order, ignored pointers are skipped,
//! and write-only pointers are flagged sensitive.

use serde_json::Value;

use super::FieldChange;

/// What to treat specially while diffing one object.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions<'a> {
    pub sets: &'a [&'a str],
    pub write_only: &'a [&'a str],
    pub ignore: &'a [String],
}

/// Compare `desired` with `live`; returns the changed fields, in pointer order.
pub fn diff(desired: &Value, live: &Value, options: &DiffOptions<'_>) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    // One pointer, grown and cut back as the walk goes down and up: a field
    // costs no string of its own unless it changed.
    let mut pointer = String::with_capacity(64);
    walk(&mut pointer, desired, Some(live), options, &mut changes);
    changes.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    changes
}

fn walk(
    pointer: &mut String,
    desired: &Value,
    live: Option<&Value>,
    options: &DiffOptions<'_>,
    out: &mut Vec<FieldChange>,
) {
    if is_ignored(pointer, options.ignore) {
        return;
    }
    let live = live.filter(|v| !v.is_null());
    let sensitive = options.write_only.contains(&pointer.as_str());
    match desired {
        Value::Object(map) if !sensitive => {
            for (key, value) in map {
                let parent = pointer.len();
                crate::json_pointer::push_token(pointer, key);
                walk(pointer, value, live.and_then(|l| l.get(key)), options, out);
                pointer.truncate(parent);
            }
        }
        Value::Null => {}
        _ => {
            let same = match live {
                None => false,
                Some(live) if options.sets.contains(&pointer.as_str()) => same_set(desired, live),
                Some(live) => equivalent(desired, live),
            };
            if !same {
                out.push(FieldChange {
                    pointer: pointer.clone(),
                    before: live.cloned(),
                    after: Some(desired.clone()),
                    sensitive,
                });
            }
        }
    }
}

fn is_ignored(pointer: &str, ignore: &[String]) -> bool {
    ignore.iter().any(|i| {
        pointer == i || pointer.strip_prefix(i.as_str()).is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Equal as JSON values, numbers compared by value.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equivalent(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w)))
        }
        _ => a == b,
    }
}

/// Equal as sets: same members, order and duplicates aside.
fn same_set(a: &Value, b: &Value) -> bool {
    let (Some(x), Some(y)) = (a.as_array(), b.as_array()) else { return equivalent(a, b) };
    x.iter().all(|v| y.iter().any(|w| equivalent(v, w)))
        && y.iter().all(|w| x.iter().any(|v| equivalent(v, w)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn compares_declared_fields_only() {
        let desired =
            json!({"name": "Q", "mediaSettings": {"call": {"alertingTimeoutSeconds": 30}}});
        let live = json!({"name": "Q", "description": "x", "mediaSettings": {"call": {"alertingTimeoutSeconds": 8, "enableAutoAnswer": true}}});
        let changes = diff(&desired, &live, &DiffOptions::default());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].pointer, "/mediaSettings/call/alertingTimeoutSeconds");
        assert_eq!(changes[0].before, Some(json!(8)));
        assert_eq!(changes[0].after, Some(json!(30)));
    }

    #[test]
    fn numbers_sets_ignores_and_write_only() {
        let desired =
            json!({"a": 30, "perms": ["x", "y"], "list": [1, 2], "skip": {"deep": 1}, "secret": 2});
        let live = json!({"a": 30.0, "perms": ["y", "x"], "list": [2, 1], "skip": {"deep": 5}, "secret": 1});
        let ignore = vec!["/skip".to_string()];
        let options = DiffOptions { sets: &["/perms"], write_only: &["/secret"], ignore: &ignore };
        let changes = diff(&desired, &live, &options);
        let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, vec!["/list", "/secret"]);
        assert!(changes[1].sensitive);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|i| json!(i)),
            "[a-z]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn a_value_never_differs_from_itself(value in json_value()) {
            prop_assert!(diff(&value, &value, &DiffOptions::default()).is_empty());
        }

        #[test]
        fn declared_fields_win_after_merge(desired in json_value(), live in json_value()) {
            // After an apply (declared fields merged over live), nothing differs.
            let mut merged = live.clone();
            crate::kinds::org::merge(&mut merged, &desired);
            prop_assert!(diff(&desired, &merged, &DiffOptions::default()).is_empty(), "{desired} vs {merged}");
        }
    }
}
