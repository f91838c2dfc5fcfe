//! "My results": each scale's totals over time as a chart drawn on the server (SVG, with the
//! severity bands shaded and named) and a table with the same figures. No chart library: the
//! geometry is a few lines, and the same markup works without JavaScript.

use crate::i18n::*;
use crate::programs::render::band_name;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One scale's answers in one treatment, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub key: String,
    pub title: String,
    /// The lowest and highest total the scale can give.
    pub min: i32,
    pub max: i32,
    /// (code, from, to), ascending.
    pub bands: Vec<(String, i32, i32)>,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// `YYYY-MM-DD`, Swedish time.
    pub date: String,
    pub total: i32,
    pub band: Option<String>,
}

/// The drawing area: the chart's size and its inner margins, in SVG units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

/// Where a total goes on the chart (higher totals higher up).
pub fn y_of(total: f64, min: i32, max: i32) -> f64 {
    let span = f64::from((max - min).max(1));
    let share = (total - f64::from(min)) / span;
    TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - share.clamp(0.0, 1.0))
}

/// Where the `index`th of `count` answers goes, spread evenly across the width.
pub fn x_of(index: usize, count: usize) -> f64 {
    let inner = WIDTH - LEFT - RIGHT;
    if count <= 1 {
        return LEFT + inner / 2.0;
    }
    LEFT + inner * index as f64 / (count - 1) as f64
}

fn fixed(v: f64) -> String {
    format!("{v:.1}")
}

/// A scale's chart and its table.
#[component]
pub fn ScaleResults(series: Series) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let (min, max) = (series.min, series.max);
    let id = format!("chart-{}", series.key);
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let (labelled_by, described_by) = (title_id.clone(), desc_id.clone());
    let count = series.points.len();
    let last = series.points.last().cloned();
    let description = match (series.points.first(), &last) {
        (Some(first), Some(last)) => format!(
            "{}: {} {} {} – {}. {}: {}{}.",
            series.title,
            count,
            t_string!(i18n, results.answers),
            first.date,
            last.date,
            t_string!(i18n, results.latest),
            last.total,
            last.band
                .as_deref()
                .map(|b| format!(" ({})", band_name(b, locale)))
                .unwrap_or_default()
        ),
        _ => String::new(),
    };
    let bands = series
        .bands
        .iter()
        .enumerate()
        .map(|(index, (code, from, to))| {
            let top = y_of(f64::from(*to) + 0.5, min, max);
            let bottom = y_of(f64::from(*from) - 0.5, min, max);
            let height = (bottom - top).max(0.0);
            let label = (height >= 14.0).then(|| {
                view! {
                    <text x=fixed(WIDTH - RIGHT - 4.0) y=fixed(top + 12.0) text-anchor="end" class="band-label">
                        {band_name(code, locale)}
                    </text>
                }
            });
            view! {
                <rect x=fixed(LEFT) y=fixed(top) width=fixed(WIDTH - LEFT - RIGHT) height=fixed(height)
                    class=format!("band band-{}", index % 5) />
                {label}
            }
        })
        .collect_view();
    let line: Vec<String> = series
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{},{}",
                fixed(x_of(i, count)),
                fixed(y_of(f64::from(p.total), min, max))
            )
        })
        .collect();
    let dots = series
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = (x_of(i, count), y_of(f64::from(p.total), min, max));
            view! {
                <circle cx=fixed(x) cy=fixed(y) r="4" class="dot" />
                <text x=fixed(x) y=fixed(y - 8.0) text-anchor="middle" class="value">{p.total}</text>
            }
        })
        .collect_view();
    let dates = series
        .points
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || *i + 1 == count)
        .map(|(i, p)| {
            view! {
                <text x=fixed(x_of(i, count)) y=fixed(HEIGHT - 12.0) text-anchor="middle" class="date">
                    {p.date.clone()}
                </text>
            }
        })
        .collect_view();
    let axis = [min, max]
        .into_iter()
        .map(|v| {
            view! {
                <text x=fixed(LEFT - 6.0) y=fixed(y_of(f64::from(v), min, max) + 4.0) text-anchor="end" class="axis">{v}</text>
            }
        })
        .collect_view();
    let rows = series
        .points
        .iter()
        .rev()
        .map(|p| {
            let band = p
                .band
                .as_deref()
                .map(|b| band_name(b, locale))
                .unwrap_or_default();
            view! { <tr><td>{p.date.clone()}</td><td>{p.total}</td><td>{band}</td></tr> }
        })
        .collect_view();
    let heading = series.title.clone();
    let section_labelled_by = id.clone();
    view! {
        <section class="card results" aria-labelledby=section_labelled_by>
            <h2 id=id>{heading}</h2>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=labelled_by aria-describedby=described_by class="chart">
                <title id=title_id>{series.title.clone()}</title>
                <desc id=desc_id>{description}</desc>
                {bands}
                {axis}
                <polyline points=line.join(" ") class="line" />
                {dots}
                {dates}
            </svg>
            <div class="table-scroll" tabindex="0"><table class="table">
                <caption>{series.title} " – " {t!(i18n, results.table_caption)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, results.date)}</th>
                        <th scope="col">{t!(i18n, results.total)}</th>
                        <th scope="col">{t!(i18n, results.band)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_map_into_the_drawing_area_higher_up_when_higher() {
        assert_eq!(y_of(0.0, 0, 21), HEIGHT - BOTTOM);
        assert_eq!(y_of(21.0, 0, 21), TOP);
        assert!(y_of(11.0, 0, 21) < y_of(10.0, 0, 21));
        // Outside the scale (a band edge's half step) stays inside the chart.
        assert_eq!(y_of(-0.5, 0, 21), HEIGHT - BOTTOM);
        assert_eq!(y_of(21.5, 0, 21), TOP);
        assert_eq!(x_of(0, 1), x_of(0, 1));
        assert_eq!(x_of(0, 3), LEFT);
        assert_eq!(x_of(2, 3), WIDTH - RIGHT);
    }
}
