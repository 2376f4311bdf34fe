//! `BENCHMARKS.md`: the results table, the machine, the command, and the growth chart
//! (an SVG written here, with no plotting dependency).

use std::fmt::Write as _;

/// One line of the results table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What was measured.
    pub operation: String,
    /// The measurement as shown (ns/op, flows/s, bytes).
    pub value: String,
    /// What it is compared with.
    pub floor: String,
    /// The floor's measurement.
    pub floor_value: String,
    /// The ratio, as shown.
    pub ratio: String,
    /// The target, as the issue states it.
    pub target: String,
    /// Whether the target is met (`None`: no target).
    pub met: Option<bool>,
}

/// Formats nanoseconds with thousands separators.
pub fn ns(value: f64) -> String {
    let rounded = value.round() as u64;
    let digits = rounded.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Row {
    /// An operation against its floor, with a ratio target (`None`: report only).
    pub fn ratio(
        operation: &str,
        op_ns: f64,
        floor: &str,
        floor_ns: f64,
        max: Option<f64>,
    ) -> Self {
        let ratio = op_ns / floor_ns;
        Self {
            operation: operation.to_owned(),
            value: ns(op_ns),
            floor: floor.to_owned(),
            floor_value: ns(floor_ns),
            ratio: format!("{ratio:.2}×"),
            target: max.map_or_else(|| "—".to_owned(), |m| format!("≤ {m}×")),
            met: max.map(|m| ratio <= m),
        }
    }

    /// An operation beside another implementation of it, measured in the same rounds:
    /// `ratio` is the median of the per-round ratios (see [`crate::measure::interleaved`]),
    /// which need not equal the quotient of the two medians shown.
    pub fn paired(
        operation: &str,
        op_ns: f64,
        other: &str,
        other_ns: f64,
        ratio: f64,
        max: Option<f64>,
    ) -> Self {
        Self {
            ratio: format!("{ratio:.2}×"),
            met: max.map(|m| ratio <= m),
            ..Self::ratio(operation, op_ns, other, other_ns, max)
        }
    }

    /// An operation with an absolute time target.
    pub fn under(operation: &str, op_ns: f64, floor: &str, floor_ns: f64, max_ns: f64) -> Self {
        Self {
            target: format!("< {} ns", ns(max_ns)),
            met: Some(op_ns < max_ns),
            ..Self::ratio(operation, op_ns, floor, floor_ns, None)
        }
    }

    /// A throughput (operations per second), with a minimum.
    pub fn per_second(operation: &str, per_second: f64, note: &str, min: Option<f64>) -> Self {
        Self {
            operation: operation.to_owned(),
            value: format!("{} ({} flows/s)", ns(1e9 / per_second), ns(per_second)),
            floor: note.to_owned(),
            floor_value: "—".to_owned(),
            ratio: "—".to_owned(),
            target: min.map_or_else(|| "—".to_owned(), |m| format!("≥ {} flows/s", ns(m))),
            met: min.map(|m| per_second >= m),
        }
    }
}

/// A line of the growth chart: cost per operation at each number of stored grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its legend.
    pub name: String,
    /// Its colour (SVG).
    pub colour: &'static str,
    /// (stored grants, ns per operation), by growing grants.
    pub points: Vec<(u64, f64)>,
}

/// The table as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| operation | ns/op | floor | floor ns/op | ratio | target | met? |\n\
         |---|---:|---|---:|---:|---|---|\n",
    );
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.operation, row.value, row.floor, row.floor_value, row.ratio, row.target, met
        );
    }
    out
}

const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 450.0;
const PANEL: f64 = 400.0;
const TOP: f64 = 50.0;
const PLOT_HEIGHT: f64 = 290.0;

/// The growth chart: on the left the cost per operation (log scale) against stored
/// grants (log scale); on the right the same costs relative to their first point, with
/// the 1.3× target.
pub fn growth_svg(series: &[Series], title: &str) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter().copied());
    let min_x = all().map(|p| p.0).min().unwrap_or(1).max(1) as f64;
    let max_x = all().map(|p| p.0).max().unwrap_or(10).max(2) as f64;
    let min_y = all().map(|p| p.1).fold(f64::INFINITY, f64::min).max(1.0);
    let max_y = all().map(|p| p.1).fold(0.0, f64::max).max(min_y * 10.0);
    let (lo_y, hi_y) = (
        10f64.powf(min_y.log10().floor()),
        10f64.powf(max_y.log10().ceil()),
    );
    let rel = |s: &Series| -> Vec<(u64, f64)> {
        let base = s.points.first().map_or(1.0, |p| p.1);
        s.points.iter().map(|&(x, y)| (x, y / base)).collect()
    };
    let max_rel = series
        .iter()
        .flat_map(|s| rel(s).into_iter().map(|p| p.1))
        .fold(1.5, f64::max)
        .ceil();

    let x_at = |left: f64, x: f64| {
        let span = (max_x.log10() - min_x.log10()).max(1e-9);
        left + 50.0 + (x.log10() - min_x.log10()) / span * (PANEL - 70.0)
    };
    let y_log = |y: f64| {
        TOP + PLOT_HEIGHT - (y.log10() - lo_y.log10()) / (hi_y.log10() - lo_y.log10()) * PLOT_HEIGHT
    };
    let y_rel = |y: f64| TOP + PLOT_HEIGHT - y / max_rel * PLOT_HEIGHT;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for (left, heading) in [
        (0.0, "cost per operation (ns, log scale)"),
        (PANEL + 20.0, "cost relative to the smallest store"),
    ] {
        let x0 = left + 50.0;
        let x1 = left + PANEL - 20.0;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="42" text-anchor="middle">{heading}</text>"#,
            (x0 + x1) / 2.0
        );
        let _ = writeln!(
            svg,
            r##"<path d="M{x0} {TOP} V{} H{x1}" fill="none" stroke="#333"/>"##,
            TOP + PLOT_HEIGHT
        );
        // x ticks at the measured sizes
        let mut sizes: Vec<u64> = all().map(|p| p.0).collect();
        sizes.sort_unstable();
        sizes.dedup();
        for size in sizes {
            let x = x_at(left, size as f64);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{}" stroke="#eee"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                TOP + PLOT_HEIGHT,
                TOP + PLOT_HEIGHT + 16.0,
                grants_label(size)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">live grants stored</text>"#,
            (x0 + x1) / 2.0,
            TOP + PLOT_HEIGHT + 34.0
        );
    }
    // left y ticks: powers of ten
    let mut decade = lo_y;
    while decade <= hi_y * 1.0001 {
        let y = y_log(decade);
        let _ = writeln!(
            svg,
            r##"<line x1="50" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="46" y="{:.1}" text-anchor="end">{}</text>"##,
            PANEL - 20.0,
            y + 4.0,
            ns_label(decade)
        );
        decade *= 10.0;
    }
    // right y ticks
    let right = PANEL + 20.0;
    let mut tick = 0.0;
    while tick <= max_rel + 1e-9 {
        let y = y_rel(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{tick:.1}×</text>"##,
            right + 50.0,
            right + PANEL - 20.0,
            right + 46.0,
            y + 4.0
        );
        tick += if max_rel > 4.0 { 1.0 } else { 0.5 };
    }
    let target = y_rel(1.3);
    let _ = writeln!(
        svg,
        r##"<line x1="{}" y1="{target:.1}" x2="{}" y2="{target:.1}" stroke="#c00" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" fill="#c00" text-anchor="end">target 1.3×</text>"##,
        right + 50.0,
        right + PANEL - 20.0,
        right + PANEL - 22.0,
        target - 5.0
    );
    for s in series {
        for (left, points, y_of) in [
            (0.0, s.points.clone(), &y_log as &dyn Fn(f64) -> f64),
            (right, rel(s), &y_rel as &dyn Fn(f64) -> f64),
        ] {
            let path: Vec<String> = points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", x_at(left, x as f64), y_of(y)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                path.join(" "),
                s.colour
            );
            for &(x, y) in &points {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"/>"#,
                    x_at(left, x as f64),
                    y_of(y),
                    s.colour
                );
            }
        }
    }
    // legend: two columns under the panels
    for (i, s) in series.iter().enumerate() {
        let x = 60.0 + (i % 2) as f64 * (PANEL + 20.0);
        let y = TOP + PLOT_HEIGHT + 62.0 + (i / 2) as f64 * 22.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="{:.1}" width="14" height="4" fill="{}"/><text x="{}" y="{:.1}">{}</text>"#,
            y - 4.0,
            s.colour,
            x + 20.0,
            y + 2.0,
            escape(&s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn grants_label(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn ns_label(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{}s", v / 1e9),
        v if v >= 1e6 => format!("{}ms", v / 1e6),
        v if v >= 1e3 => format!("{}µs", v / 1e3),
        v => format!("{v}ns"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The markers around the section of `BENCHMARKS.md` that `oauth-load` writes (its
/// measurements over HTTP): the suite rewrites the rest of the file and keeps that part.
pub const HTTP_LOAD_MARKERS: (&str, &str) = ("<!-- HTTP-LOAD-START -->", "<!-- HTTP-LOAD-END -->");

/// `fresh` followed by the HTTP load section of `previous`, markers included, when
/// `previous` has one; else `fresh` as it is.
pub fn keep_http_load_section(previous: &str, mut fresh: String) -> String {
    let (start, end) = HTTP_LOAD_MARKERS;
    let Some(from) = previous.find(start) else {
        return fresh;
    };
    let Some(len) = previous[from..].find(end) else {
        return fresh;
    };
    if !fresh.ends_with('\n') {
        fresh.push('\n');
    }
    fresh.push('\n');
    fresh.push_str(&previous[from..from + len + end.len()]);
    fresh.push('\n');
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(ns(1234567.4), "1,234,567");
        assert_eq!(ns(999.0), "999");
        assert_eq!(ns(1000.0), "1,000");
    }

    #[test]
    fn a_missed_ratio_says_no() {
        let row = Row::ratio("op", 300.0, "floor", 100.0, Some(2.0));
        assert_eq!(row.ratio, "3.00×");
        assert_eq!(row.met, Some(false));
        assert!(table(&[row]).contains("| op | 300 | floor | 100 | 3.00× | ≤ 2× | **no** |"));
    }

    #[test]
    fn a_paired_row_shows_the_median_ratio() {
        let row = Row::paired("op", 300.0, "peer", 100.0, 0.75, Some(0.8));
        assert_eq!((row.ratio.as_str(), row.met), ("0.75×", Some(true)));
        assert_eq!(
            (row.value.as_str(), row.floor_value.as_str()),
            ("300", "100")
        );
        assert_eq!(row.target, "≤ 0.8×");
    }

    #[test]
    fn the_chart_is_one_svg_with_every_series() {
        let series = [
            Series {
                name: "memory <flow>".into(),
                colour: "#06c",
                points: vec![(10_000, 9_000.0), (1_000_000, 10_000.0)],
            },
            Series {
                name: "sqlite".into(),
                colour: "#c60",
                points: vec![(10_000, 5e6), (1_000_000, 6e6)],
            },
        ];
        let svg = growth_svg(&series, "growth");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains("memory &lt;flow&gt;"));
        assert!(svg.contains(">1M<") && svg.contains(">10k<"));
    }

    #[test]
    fn the_http_load_section_survives_a_rewrite() {
        let previous =
            "# old\n\ntext\n\n<!-- HTTP-LOAD-START -->\n## HTTP\nrows\n<!-- HTTP-LOAD-END -->\n";
        assert_eq!(
            keep_http_load_section(previous, "# new\n".into()),
            "# new\n\n<!-- HTTP-LOAD-START -->\n## HTTP\nrows\n<!-- HTTP-LOAD-END -->\n"
        );
        assert_eq!(
            keep_http_load_section("# old\n", "# new\n".into()),
            "# new\n"
        );
        let unterminated = "# old\n<!-- HTTP-LOAD-START -->\nrows\n";
        assert_eq!(
            keep_http_load_section(unterminated, "# new\n".into()),
            "# new\n"
        );
    }
}
