//! The figures as an SVG chart: wall time against the number of objects for
//! plan, apply and export, gcctl (solid, dots) against the per-object
//! baseline (dashed) and the lower bound (dotted), both axes logarithmic,
//! with the date, machine and commit. Plain SVG written by hand: no
//! dependency, and a diff of the file shows what moved.

use std::fmt::Write as _;

use crate::report::{Outcome, Report};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 60.0;

/// One line: points (objects, seconds).
struct Series {
    label: String,
    color: &'static str,
    dash: &'static str,
    dots: bool,
    points: Vec<(f64, f64)>,
}

/// The chart of a report.
pub fn svg(report: &Report) -> String {
    let mut series = Vec::new();
    for (command, color) in [("plan", "#1f77b4"), ("apply", "#d62728"), ("export", "#2ca02c")] {
        // The scenarios named `command-N` (not `apply-1000-1-token`).
        let outcomes: Vec<&Outcome> = report
            .outcomes
            .iter()
            .filter(|o| o.command == command && o.id == format!("{command}-{}", o.objects))
            .filter(|o| o.sandbox.is_some_and(|k| k.latency_ms > 0))
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let points = |f: &dyn Fn(&Outcome) -> Option<f64>| -> Vec<(f64, f64)> {
            outcomes.iter().filter_map(|o| Some((o.objects as f64, f(o)?))).collect()
        };
        let measured = points(&|o| o.usage.map(|u| u.wall_s));
        if measured.is_empty() {
            continue;
        }
        series.push(Series {
            label: format!("gcctl {command}"),
            color,
            dash: "",
            dots: true,
            points: measured,
        });
        series.push(Series {
            label: format!("per-object {command}"),
            color,
            dash: "6 4",
            dots: false,
            points: points(&|o| o.per_object_baseline.map(|b| b.wall_s)),
        });
        series.push(Series {
            label: format!("bound {command}"),
            color,
            dash: "1 3",
            dots: false,
            points: points(&|o| o.lower_bound.map(|b| b.wall_s)),
        });
    }
    draw(report, &series)
}

fn draw(report: &Report, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all.filter(|(x, y)| *x > 0.0 && *y > 0.0) {
        (x_min, x_max, y_min, y_max) = (x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y));
    }
    if x_min > x_max {
        (x_min, x_max, y_min, y_max) = (10.0, 100.0, 0.1, 1.0);
    }
    // Whole decades around the data.
    let (x_lo, x_hi) =
        (x_min.log10().floor(), x_max.log10().ceil().max(x_min.log10().floor() + 1.0));
    let (y_lo, y_hi) =
        (y_min.log10().floor(), y_max.log10().ceil().max(y_min.log10().floor() + 1.0));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let py = |y: f64| TOP + plot_h - (y.log10() - y_lo) / (y_hi - y_lo) * plot_h;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let m = &report.machine;
    let _ = writeln!(
        out,
        "<text x=\"{LEFT}\" y=\"22\" font-size=\"15\">gcctl: wall time against objects (log scales)</text>\n\
         <text x=\"{LEFT}\" y=\"40\" fill=\"#555\">{} · commit {} · {}, {} cores · sandbox {} ± {} ms, {} req/min per token</text>",
        escape(&report.date),
        escape(report.git_commit.as_deref().unwrap_or("unknown")),
        escape(&m.cpu),
        m.cores,
        report.online_sandbox.latency_ms,
        report.online_sandbox.latency_jitter_ms,
        report
            .online_sandbox
            .rate_limit_per_minute
            .map_or_else(|| "unlimited".into(), |n| n.to_string()),
    );
    // Grid and axes: one line per decade.
    #[allow(clippy::cast_possible_truncation)]
    for d in (x_lo as i32)..=(x_hi as i32) {
        let x = px(10f64.powi(d));
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + plot_h,
            TOP + plot_h + 18.0,
            count_label(10f64.powi(d)),
        );
    }
    #[allow(clippy::cast_possible_truncation)]
    for d in (y_lo as i32)..=(y_hi as i32) {
        let y = py(10f64.powi(d));
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            seconds_label(10f64.powi(d)),
        );
    }
    let _ = writeln!(
        out,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#333\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">objects</text>\n\
         <text x=\"16\" y=\"{:.1}\" transform=\"rotate(-90 16 {:.1})\" text-anchor=\"middle\">wall time</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 18.0,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
    );
    for (i, s) in series.iter().enumerate() {
        let path: Vec<String> =
            s.points.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
        if path.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/>",
            path.join(" "),
            s.color,
            s.dash
        );
        if s.dots {
            for (x, y) in &s.points {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"><title>{}: {} objects, {}</title></circle>",
                    px(*x),
                    py(*y),
                    s.color,
                    escape(&s.label),
                    count_label(*x),
                    seconds_label(*y)
                );
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let ly = TOP + 10.0 + i as f64 * 18.0;
        let lx = WIDTH - RIGHT + 16.0;
        let _ = writeln!(
            out,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{:.1}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            lx + 28.0,
            s.color,
            s.dash,
            lx + 34.0,
            ly + 4.0,
            escape(&s.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn count_label(n: f64) -> String {
    match n {
        n if n >= 1e6 => format!("{}M", n / 1e6),
        n if n >= 1e3 => format!("{}k", n / 1e3),
        n => format!("{n}"),
    }
}

fn seconds_label(s: f64) -> String {
    match s {
        s if s >= 3600.0 => format!("{:.1} h", s / 3600.0),
        s if s >= 60.0 => format!("{:.0} min", s / 60.0),
        s if s >= 1.0 => format!("{s:.0} s"),
        s => format!("{:.0} ms", s * 1000.0),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
