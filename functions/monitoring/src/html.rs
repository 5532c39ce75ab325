//! The dashboard as one HTML page: tables and two inline SVG charts, written on the server;
//! no script, no stylesheet or font from elsewhere. Every text put in the page is escaped.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::dashboard::Dashboard;

/// Text made safe for HTML content and attribute values (the emails' escaping).
pub use callbook_core::templates::escape_html as escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2733}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}\
table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:.25rem .6rem;text-align:left}\
.ok{color:#16703a}.bad{color:#b3261e}.figures td{font-variant-numeric:tabular-nums}\
svg{border:1px solid #ccd;background:#fafbfc}.legend span{margin-right:1rem}";

/// A count, or a dash when the part could not be read.
fn cell(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "–".to_string(), |v| escape(&v.to_string()))
}

fn error_line(out: &mut String, what: &str, error: &str) {
    let _ = write!(
        out,
        "<p class=\"bad\">{} could not be read: {}</p>",
        escape(what),
        escape(error)
    );
}

/// Bars side by side for each hour: `series` are (name, colour, points) with the same hours.
/// One series of bars: its name, its colour, its values by hour.
pub type Bars<'a> = (&'a str, &'a str, &'a [(DateTime<Utc>, f64)]);

pub fn bar_chart(title: &str, id: &str, series: &[Bars<'_>]) -> String {
    let (width, height, pad) = (720.0, 200.0, 30.0);
    let hours = series.iter().map(|(_, _, p)| p.len()).max().unwrap_or(0);
    let top = series
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|(_, v)| *v))
        .fold(1.0_f64, f64::max);
    let mut svg = format!(
        "<svg id=\"{}\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">",
        escape(id),
        escape(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape(title));
    let slot = (width - 2.0 * pad) / hours.max(1) as f64;
    let bar = slot / (series.len().max(1) as f64 + 1.0);
    for (s, (name, colour, points)) in series.iter().enumerate() {
        for (h, (at, value)) in points.iter().enumerate() {
            let bar_height = (height - 2.0 * pad) * value / top;
            let x = pad + h as f64 * slot + s as f64 * bar;
            let y = height - pad - bar_height;
            let _ = write!(
                svg,
                "<rect class=\"bar\" data-series=\"{}\" data-value=\"{value}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bar_height:.1}\" fill=\"{}\"><title>{} {}: {value}</title></rect>",
                escape(name),
                escape(colour),
                escape(name),
                at.format("%H:00"),
            );
        }
    }
    let span = series
        .first()
        .and_then(|(_, _, p)| Some((p.first()?.0, p.last()?.0)));
    axes(&mut svg, width, height, pad, top, span);
    svg.push_str("</svg>");
    svg
}

/// The first and last period a chart spans.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// One line over time, placed on `span` (the bar chart's hours), so both charts line up.
pub fn line_chart(
    title: &str,
    id: &str,
    colour: &str,
    points: &[(DateTime<Utc>, f64)],
    span: Option<Span>,
) -> String {
    let (width, height, pad) = (720.0, 200.0, 30.0);
    let top = points.iter().map(|(_, v)| *v).fold(1.0_f64, f64::max);
    let mut svg = format!(
        "<svg id=\"{}\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">",
        escape(id),
        escape(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape(title));
    let span = span.or_else(|| Some((points.first()?.0, points.last()?.0)));
    if let (Some((first, last)), false) = (span, points.is_empty()) {
        let seconds = (last - first).num_seconds().max(1) as f64;
        let xy: Vec<String> = points
            .iter()
            .map(|(at, v)| {
                let x = pad + (width - 2.0 * pad) * (*at - first).num_seconds() as f64 / seconds;
                let y = height - pad - (height - 2.0 * pad) * v / top;
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
            escape(colour),
            xy.join(" ")
        );
        for (point, (at, v)) in xy.iter().zip(points) {
            let (x, y) = point.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                svg,
                "<circle class=\"point\" data-value=\"{v}\" cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{}\"><title>{}: {v:.0} ms</title></circle>",
                escape(colour),
                at.format("%H:%M")
            );
        }
    } else {
        let _ = write!(
            svg,
            "<text x=\"{pad}\" y=\"{}\">no data in the last 24 hours</text>",
            height / 2.0
        );
    }
    axes(&mut svg, width, height, pad, top, span);
    svg.push_str("</svg>");
    svg
}

fn axes(svg: &mut String, width: f64, height: f64, pad: f64, top: f64, span: Option<Span>) {
    let _ = write!(
        svg,
        "<line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#889\"/><text x=\"2\" y=\"{t}\" font-size=\"10\">{top:.0}</text><text x=\"2\" y=\"{b}\" font-size=\"10\">0</text>",
        b = height - pad,
        r = width - pad,
        t = pad,
    );
    if let Some((first, last)) = span {
        let _ = write!(
            svg,
            "<text x=\"{pad}\" y=\"{y}\" font-size=\"10\">{}</text><text x=\"{x}\" y=\"{y}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            first.format("%H:%M UTC"),
            last.format("%H:%M UTC"),
            y = height - 8.0,
            x = width - pad,
        );
    }
}

pub fn page(d: &Dashboard) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>callbook dashboard</title><style>{STYLE}</style></head><body><h1>callbook</h1><p>Generated {} · status <strong id=\"status\" class=\"{}\">{}</strong></p>",
        escape(&d.generated_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        if d.healthy { "ok" } else { "bad" },
        if d.healthy { "ok" } else { "unavailable" },
    );

    out.push_str("<h2>Today (UTC)</h2>");
    match &d.today {
        Ok(f) => {
            let conversion = f.conversion().map(|c| format!("{:.0}%", c * 100.0));
            let rows = [
                ("calls", f.calls.to_string()),
                ("bookings", f.bookings.to_string()),
                ("conversion", conversion.unwrap_or_else(|| "–".into())),
                ("changes", f.changes.to_string()),
                ("cancellations", f.cancellations.to_string()),
                ("leads", f.leads().to_string()),
                ("sent", f.sent().to_string()),
                ("failed sends", f.failed.to_string()),
            ];
            out.push_str("<table class=\"figures\" id=\"today\">");
            for (name, value) in rows {
                let _ = write!(
                    out,
                    "<tr><th>{}</th><td data-figure=\"{}\">{}</td></tr>",
                    escape(name),
                    escape(name),
                    escape(&value)
                );
            }
            out.push_str("</table>");
        }
        Err(e) => error_line(&mut out, "Today's figures", e),
    }

    out.push_str("<h2>Queues</h2><table id=\"queues\"><tr><th>queue</th><th>waiting</th><th>dead letters</th><th>longest wait, last hour (ms)</th></tr>");
    for q in &d.queues {
        let dead = q.dead_letters.unwrap_or(0) > 0;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(q.queue),
            cell(q.waiting),
            if dead { "bad" } else { "ok" },
            cell(q.dead_letters),
            cell(q.oldest_ms.map(|ms| format!("{ms:.0}"))),
        );
    }
    out.push_str("</table>");

    out.push_str("<h2>Alarms in ALARM</h2>");
    match &d.alarms {
        Ok(alarms) if alarms.is_empty() => out.push_str("<p class=\"ok\" id=\"alarms\">none</p>"),
        Ok(alarms) => {
            out.push_str("<ul id=\"alarms\">");
            for a in alarms {
                let since = a.since.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string());
                let _ = write!(
                    out,
                    "<li class=\"bad\"><strong>{}</strong> since {}: {}</li>",
                    escape(&a.name),
                    cell(since),
                    escape(&a.reason)
                );
            }
            out.push_str("</ul>");
        }
        Err(e) => error_line(&mut out, "The alarms", e),
    }

    out.push_str("<h2>Last failures (24 h)</h2>");
    match &d.failures {
        Ok(failures) if failures.is_empty() => {
            out.push_str("<p class=\"ok\" id=\"failures\">none</p>")
        }
        Ok(failures) => {
            out.push_str("<table id=\"failures\"><tr><th>from</th><th>what</th><th>where</th><th>why</th><th>how many</th></tr>");
            for f in failures {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&f.at.format("%H:%M UTC").to_string()),
                    escape(f.kind),
                    escape(&f.source),
                    cell(f.reason.as_deref()),
                    f.count
                );
            }
            out.push_str("</table>");
        }
        Err(e) => error_line(&mut out, "The failures", e),
    }

    out.push_str("<h2>Last 24 hours</h2>");
    match &d.hourly {
        Ok(h) => {
            out.push_str("<p class=\"legend\"><span style=\"color:#3b6fb6\">■ calls</span><span style=\"color:#2f9e5b\">■ bookings</span></p>");
            out.push_str(&bar_chart(
                "Calls and bookings per hour",
                "chart-calls",
                &[
                    ("calls", "#3b6fb6", &h.calls),
                    ("bookings", "#2f9e5b", &h.bookings),
                ],
            ));
            out.push_str("<p>Tool latency p95 (ms), per hour</p>");
            out.push_str(&line_chart(
                "Tool latency p95 per hour",
                "chart-latency",
                "#b5651d",
                &h.tool_p95_ms,
                h.calls.first().zip(h.calls.last()).map(|(a, b)| (a.0, b.0)),
            ));
        }
        Err(e) => error_line(&mut out, "The hourly series", e),
    }
    out.push_str("</body></html>");
    out
}
