//! "Did you mean": the closest candidate to a misspelled word.
//!
//! Used for permission names (and kinds and fields, where a list of every
//! valid name helps less than one good guess). A suggestion is made only when
//! it is close: at most a third of the word's characters differ, so a wild
//! guess is never offered as a fix.

/// The candidate closest to `word` by edit distance (case-insensitive), if
/// it is close enough to be a likely misspelling. Ties go to the first.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word_lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let distance = edit_distance(&word_lower, &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The one name that contains `word` (`Queue` in `RoutingQueue`), when
/// exactly one does: a shortened name is not a misspelling, so edit distance
/// alone misses it.
pub fn containing<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    let mut found = names.iter().filter(|n| word.len() >= 3 && n.to_lowercase().contains(&word));
    match (found.next(), found.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// [`closest`], else [`containing`].
pub fn likely<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    closest(word, names.iter().copied()).or_else(|| containing(word, names))
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("conversations", "conversation"), 1);
    }

    #[test]
    fn suggests_only_close_candidates() {
        let kinds = ["RoutingQueue", "Role", "OAuthClient"];
        assert_eq!(closest("RoutingQeue", kinds), Some("RoutingQueue"));
        assert_eq!(closest("oauthclient", kinds), Some("OAuthClient"));
        assert_eq!(closest("Flow", kinds), None);
        assert_eq!(
            closest(
                "conversations:message:receive",
                ["conversation:message:receive", "conversation:message:create"]
            ),
            Some("conversation:message:receive")
        );
    }
}
