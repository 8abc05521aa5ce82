//! The overview's charts as server-rendered SVG: stacked weekly bars by activity type, and bars
//! per owner, each shape with a `<title>` and each chart with a text description.

use maud::{html, Markup};

/// Colours of the series, in order (repeated past the end); readable on white.
const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// One week's bar: its label and the count of each series (in series order).
pub struct WeekBar {
    pub label: String,
    pub counts: Vec<i64>,
}

/// Stacked bars, one per week, one segment per series with a count.
pub fn stacked_weeks(id: &str, caption: &str, series: &[String], weeks: &[WeekBar]) -> Markup {
    let (w, h, left, bottom, top) = (760.0_f64, 260.0_f64, 40.0_f64, 40.0_f64, 10.0_f64);
    let max = weeks
        .iter()
        .map(|b| b.counts.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (w - left) / weeks.len().max(1) as f64;
    let bar = (slot * 0.7).clamp(2.0, 60.0);
    let scale = (h - bottom - top) / max as f64;
    let total: i64 = weeks.iter().flat_map(|b| b.counts.iter()).sum();
    let desc = format!(
        "{caption}: {total} activities over {} weeks; the busiest week has {max}. The table below holds every number.",
        weeks.len()
    );
    html! {
        svg id=(id) class="chart" role="img" viewBox={"0 0 " (w) " " (h)} width="100%"
            aria-labelledby={(id) "-title " (id) "-desc"} xmlns="http://www.w3.org/2000/svg" {
            title id={(id) "-title"} { (caption) }
            desc id={(id) "-desc"} { (desc) }
            line x1=(left) y1=(h - bottom) x2=(w) y2=(h - bottom) stroke="#999" {}
            text x=(left - 4.0) y=(top + 10.0) text-anchor="end" font-size="11" { (max) }
            text x=(left - 4.0) y=(h - bottom) text-anchor="end" font-size="11" { "0" }
            @for (i, week) in weeks.iter().enumerate() {
                @let x = left + slot * i as f64 + (slot - bar) / 2.0;
                g class="week" data-week=(week.label) data-total=(week.counts.iter().sum::<i64>()) {
                    title { (week.label) ": " (week.counts.iter().sum::<i64>()) " activities" }
                    @for (s, n, y, height) in segments(&week.counts, h - bottom, scale) {
                        @if n > 0 {
                            rect x=(fmt(x)) y=(fmt(y)) width=(fmt(bar)) height=(fmt(height))
                                fill=(colour(s)) data-series=(series.get(s).map(String::as_str).unwrap_or("")) data-count=(n) {
                                title { (week.label) " — " (series.get(s).map(String::as_str).unwrap_or("")) ": " (n) }
                            }
                        }
                    }
                    @if i % label_every(weeks.len()) == 0 {
                        text x=(fmt(x + bar / 2.0)) y=(h - bottom + 14.0) text-anchor="middle" font-size="10" {
                            (week.label.get(5..).unwrap_or(&week.label))
                        }
                    }
                }
            }
        }
    }
}

/// Horizontal bars, one per (label, count).
pub fn bars(id: &str, caption: &str, rows: &[(String, i64)]) -> Markup {
    let (w, row_h, left) = (760.0_f64, 22.0_f64, 200.0_f64);
    let h = row_h * rows.len().max(1) as f64 + 10.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let scale = (w - left - 60.0) / max as f64;
    let total: i64 = rows.iter().map(|r| r.1).sum();
    let desc = format!(
        "{caption}: {total} activities by {} owners. The table below holds every number.",
        rows.len()
    );
    html! {
        svg id=(id) class="chart" role="img" viewBox={"0 0 " (w) " " (h)} width="100%"
            aria-labelledby={(id) "-title " (id) "-desc"} xmlns="http://www.w3.org/2000/svg" {
            title id={(id) "-title"} { (caption) }
            desc id={(id) "-desc"} { (desc) }
            @for (i, (label, n)) in rows.iter().enumerate() {
                @let y = 5.0 + row_h * i as f64;
                g data-owner=(label) data-count=(n) {
                    title { (label) ": " (n) " activities" }
                    text x=(left - 6.0) y=(fmt(y + 14.0)) text-anchor="end" font-size="12" { (label) }
                    rect x=(left) y=(fmt(y)) width=(fmt(*n as f64 * scale)) height=(fmt(row_h - 6.0)) fill=(colour(0)) {}
                    text x=(fmt(left + *n as f64 * scale + 4.0)) y=(fmt(y + 14.0)) font-size="12" { (n) }
                }
            }
        }
    }
}

/// `(series, count, top, height)` of each segment of a bar standing on `base`, bottom up.
fn segments(counts: &[i64], base: f64, scale: f64) -> Vec<(usize, i64, f64, f64)> {
    let mut y = base;
    counts
        .iter()
        .enumerate()
        .map(|(s, &n)| {
            let height = n as f64 * scale;
            y -= height;
            (s, n, y, height)
        })
        .collect()
}

/// Every how many weeks an axis label is written, so that labels do not overlap.
fn label_every(weeks: usize) -> usize {
    weeks.div_ceil(13).max(1)
}

/// A coordinate with two decimals at most.
fn fmt(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_bars_have_titles_and_counts() {
        let svg = stacked_weeks(
            "w",
            "Activities per week",
            &["Call".into(), "Email".into()],
            &[
                WeekBar {
                    label: "2026-11-30".into(),
                    counts: vec![3, 0],
                },
                WeekBar {
                    label: "2026-12-07".into(),
                    counts: vec![1, 2],
                },
            ],
        )
        .into_string();
        assert!(
            svg.contains("<title>2026-12-07 — Email: 2</title>"),
            "{svg}"
        );
        assert!(svg.contains("data-total=\"3\""), "{svg}");
        assert_eq!(
            svg.matches("<rect").count(),
            3,
            "no segment for a zero: {svg}"
        );
        assert!(svg.contains("6 activities over 2 weeks"), "{svg}");
    }

    #[test]
    fn owner_bars_and_coordinates() {
        let svg = bars("o", "Per owner", &[("Ann <b>".into(), 4)]).into_string();
        assert!(
            svg.contains("Ann &lt;b&gt;: 4 activities"),
            "escaped: {svg}"
        );
        assert_eq!(fmt(1.50), "1.5");
        assert_eq!(fmt(2.0), "2");
        assert_eq!(label_every(52), 4);
    }
}
