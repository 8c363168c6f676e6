//! How the benchmark writes numbers (the table, the progress lines); also
//! read by `tests/it/docs.rs`, which checks the published table against the
//! published JSON. Kept free of other modules so that the test can include it.

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds with sensible precision; minutes from 5 minutes on.
pub fn seconds(s: f64) -> String {
    if s >= 300.0 {
        format!("{:.0} min", s / 60.0)
    } else if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 0.1 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}
