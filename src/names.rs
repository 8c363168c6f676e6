//! How names compare when a person or an org may take two for one.

/// A name as a person or an org may take it: in Unicode compatibility form
/// (NFKC: a precomposed `é` and `e` with a combining accent, a full-width `Ａ`
/// and `A`, are one), without invisible format characters (zero-width
/// spaces and joiners, direction marks, soft hyphens), every run of
/// whitespace one space, none around it, in lowercase. Names differing only
/// so look alike in the UI. (Whether Genesys Cloud takes any of them for one
/// name is unverified; the sandbox refuses a second name differing in case.)
pub fn loose_name(name: &str) -> String {
    // ASCII is its own NFKC form and holds no invisible characters.
    if name.is_ascii() {
        let mut out = String::with_capacity(name.len());
        for word in name.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out;
    }
    loose_in_general(name)
}

/// [`loose_name`] for any text, without its ASCII shortcut.
fn loose_in_general(name: &str) -> String {
    const NFKC: icu_normalizer::ComposingNormalizerBorrowed<'static> =
        icu_normalizer::ComposingNormalizerBorrowed::new_nfkc();
    // Invisible characters first: between a letter and its accent they
    // would keep the two from composing.
    let visible: String =
        name.chars().filter(|&c| !crate::api::untrusted::is_ignorable_in_names(c)).collect();
    let visible = NFKC.normalize(&visible);
    visible.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// How two names of one [`loose_name`] differ, for a message ("names
/// that differ …"): "only in case" when they do, otherwise the wider words.
pub fn how_alike(a: &str, b: &str) -> &'static str {
    if a.to_lowercase() == b.to_lowercase() {
        "only in case"
    } else {
        "only in case, spacing or look-alike characters"
    }
}

#[cfg(test)]
mod tests {
    use super::{loose_in_general, loose_name};

    /// Names that look alike in the UI compare alike; others do not.
    #[test]
    fn look_alike_names_are_one_loose_name() {
        let acme = loose_name("Acme Café");
        for alike in [
            "acme café",
            "  Acme   Café ",
            "Acme Cafe\u{301}",
            "Acme\u{a0}Café",
            "Acme \u{200b}Café",
            "\u{ff21}cme Caf\u{e9}",
            "Acme\tCafé",
            "Acme Cafe\u{200b}\u{301}",
            "Acme\u{e0041} Café",
            "Acme \u{200d}Café",
        ] {
            assert_eq!(loose_name(alike), acme, "{alike:?}");
        }
        for other in ["Acme Cafe", "AcmeCafé", "Acme Café 2"] {
            assert_ne!(loose_name(other), acme, "{other:?}");
        }
        // The ASCII path agrees with the general one, every character.
        let every: String = (0..128u8).map(char::from).collect();
        for ascii in ["  Acme \t\n Support ", "ACME SUPPORT", "acme\x0bsupport", "a", "", &every] {
            assert_eq!(loose_name(ascii), loose_in_general(ascii), "{ascii:?}");
        }
    }
}
