//! `--svg FILE`: the tables' ratios to raw TCP as a picture, one panel per placement (pinned,
//! split), one row per system with a bar for sequential calls and one for concurrent calls, and
//! a line at 1.0 (raw TCP). Plain SVG written here: a chart of bars needs no plotting library.

use std::fmt::Write as _;

/// One system's row: its label and its ratios (`None`: not measured or failed).
pub struct Row {
    pub label: String,
    pub seq: Option<f64>,
    pub conc: Option<f64>,
}

/// One placement's rows.
pub struct Panel {
    pub title: String,
    pub rows: Vec<Row>,
}

const ROW_H: f64 = 26.0;
const LABEL_W: f64 = 430.0;
const PLOT_W: f64 = 420.0;
const SEQ: &str = "#4a7ebb";
const CONC: &str = "#e39c37";

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart of `panels`; `conns` names the concurrent workload in the legend.
pub fn svg(panels: &[Panel], conns: usize) -> String {
    let top = |p: &Panel| {
        p.rows
            .iter()
            .flat_map(|r| [r.seq, r.conc])
            .flatten()
            .fold(0.0, f64::max)
    };
    let max = panels.iter().map(top).fold(1.2_f64, f64::max).min(4.0);
    let height: f64 = 60.0
        + panels
            .iter()
            .map(|p| 40.0 + ROW_H * p.rows.len() as f64)
            .sum::<f64>();
    let width = LABEL_W + PLOT_W + 60.0;
    let x_of = |r: f64| LABEL_W + PLOT_W * (r.min(max) / max);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\">calls/s relative to raw TCP in the same run (higher is better)</text>\n\
         <rect x=\"10\" y=\"32\" width=\"12\" height=\"12\" fill=\"{SEQ}\"/><text x=\"28\" y=\"42\">sequential</text>\n\
         <rect x=\"110\" y=\"32\" width=\"12\" height=\"12\" fill=\"{CONC}\"/><text x=\"128\" y=\"42\">{conns} connections</text>\n"
    );
    let mut y = 60.0;
    for p in panels {
        let _ = writeln!(
            s,
            "<text x=\"10\" y=\"{:.0}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            y + 16.0,
            esc(&p.title)
        );
        y += 28.0;
        let panel_top = y;
        for r in &p.rows {
            let _ = writeln!(
                s,
                "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>",
                LABEL_W - 8.0,
                y + 16.0,
                esc(&r.label)
            );
            for (i, (v, colour)) in [(r.seq, SEQ), (r.conc, CONC)].into_iter().enumerate() {
                let by = y + 3.0 + 10.0 * i as f64;
                if let Some(v) = v {
                    let _ = writeln!(
                            s,
                            "<rect x=\"{LABEL_W}\" y=\"{by:.1}\" width=\"{:.1}\" height=\"9\" fill=\"{colour}\"><title>{v:.2}×</title></rect>\
                             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{v:.2}</text>",
                            x_of(v) - LABEL_W,
                            x_of(v) + 3.0,
                            by + 8.0
                        );
                }
            }
            y += ROW_H;
        }
        let one = x_of(1.0);
        let _ = writeln!(
            s,
            "<line x1=\"{one:.1}\" y1=\"{:.0}\" x2=\"{one:.1}\" y2=\"{y:.0}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{one:.1}\" y=\"{:.0}\" text-anchor=\"middle\" font-size=\"10\">raw TCP = 1.0</text>",
            panel_top - 2.0,
            y + 12.0
        );
        y += 12.0;
    }
    s.push_str("</svg>\n");
    s
}
