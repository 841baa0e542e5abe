//! `docs/bench/chart.svg`: ours and the peers side by side, from one run.
//! Four panels: fan-out deliveries per second, the
//! server's CPU per delivery, the paced latency distribution, and memory
//! per idle client. plotters with its SVG backend only: no system fonts or
//! image libraries.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::compare::{find, label};
use crate::hist::Hist;
use crate::report::Scenario;
use crate::scenarios::Config;

const COLORS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
];

fn servers(cfg: &Config) -> Vec<String> {
    std::iter::once("chat-server".to_string())
        .chain(cfg.peers.iter().map(|p| p.name.clone()))
        .collect()
}

fn median(all: &[Scenario], key: &str, server: &str, figure: &str) -> Option<f64> {
    find(all, key, server, figure)
        .map(|(_, r)| r.median)
        .filter(|v| v.is_finite() && *v > 0.0)
}

type Err = Box<dyn std::error::Error>;

/// The chart as SVG text, titled with `caption` (date and machine).
pub fn svg(cfg: &Config, all: &[Scenario], caption: &str) -> Result<String, String> {
    let mut buf = String::new();
    draw(cfg, all, caption, &mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

fn draw(cfg: &Config, all: &[Scenario], caption: &str, buf: &mut String) -> Result<(), Err> {
    let root = SVGBackend::with_string(buf, (1100, 820)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(caption, ("sans-serif", 18))?;
    let panels = root.split_evenly((2, 2));
    let who = servers(cfg);
    let sizes: Vec<usize> = cfg.fanout.iter().map(|&(n, _)| n).collect();
    bars(
        &panels[0],
        "fan-out: deliveries per second (log)",
        &who,
        &sizes,
        |server, n| {
            median(
                all,
                "fanout",
                server,
                &format!("fanout_n{n}.deliveries_per_s"),
            )
        },
    )?;
    bars(
        &panels[1],
        "fan-out: server CPU per delivery, us (log)",
        &who,
        &sizes,
        |server, n| {
            median(
                all,
                "fanout",
                server,
                &format!("fanout_n{n}.server_cpu_per_delivery"),
            )
        },
    )?;
    latency(&panels[2], cfg, all, &who)?;
    memory(&panels[3], cfg, all, &who)?;
    root.present()?;
    Ok(())
}

/// Grouped bars on a log axis: one group per fan-out size, one bar per server.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    who: &[String],
    sizes: &[usize],
    value: impl Fn(&str, usize) -> Option<f64>,
) -> Result<(), Err>
where
    DB::ErrorType: 'static,
{
    let values: Vec<f64> = who
        .iter()
        .flat_map(|s| {
            sizes
                .iter()
                .filter_map(|&n| value(s, n))
                .collect::<Vec<_>>()
        })
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if values.is_empty() {
        (0.1, 10.0)
    } else {
        // Room above the bars for the legend (a log axis: 1.5 decades).
        (lo / 3.0, hi * 30.0)
    };
    let groups = sizes.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..groups, (lo..hi).log_scale())?;
    let groups_desc = sizes
        .iter()
        .map(|n| format!("{n} clients"))
        .collect::<Vec<_>>()
        .join(" | ");
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_desc(groups_desc)
        .y_label_formatter(&|y| short(*y))
        .draw()?;
    let width = 0.8 / who.len().max(1) as f64;
    for (j, server) in who.iter().enumerate() {
        let color = COLORS[j % COLORS.len()];
        let rects: Vec<Rectangle<(f64, f64)>> = sizes
            .iter()
            .enumerate()
            .filter_map(|(g, &n)| {
                let v = value(server, n)?;
                let x0 = g as f64 + 0.1 + j as f64 * width;
                Some(Rectangle::new(
                    [(x0, lo), (x0 + width * 0.9, v)],
                    color.filled(),
                ))
            })
            .collect();
        let values = sizes.iter().enumerate().filter_map(|(g, &n)| {
            let v = value(server, n)?;
            let x = g as f64 + 0.1 + (j as f64 + 0.45) * width;
            Some(Text::new(
                short(v),
                (x, v * 1.15),
                ("sans-serif", 11)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))
        });
        chart.draw_series(values)?;
        chart
            .draw_series(rects)?
            .label(label(server))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// The paced scenario's delivery latency as a distribution: for each
/// server, the share of deliveries (y) that arrived within x ms.
fn latency<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    cfg: &Config,
    all: &[Scenario],
    who: &[String],
) -> Result<(), Err>
where
    DB::ErrorType: 'static,
{
    let qs: Vec<f64> = (1..=999).map(|i| f64::from(i) / 1000.0).collect();
    let curves: Vec<(usize, Vec<(f64, f64)>)> = who
        .iter()
        .enumerate()
        .filter_map(|(j, server)| {
            let mut merged = Hist::default();
            for s in all
                .iter()
                .filter(|s| s.key == "paced" && &s.server == server)
            {
                for h in s.runs.iter().filter_map(|r| r.latency.as_ref()) {
                    merged.merge(h);
                }
            }
            let pts: Vec<(f64, f64)> = qs
                .iter()
                .filter_map(|&q| Some((merged.quantile(q)? as f64 / 1e6, q * 100.0)))
                .filter(|(ms, _)| *ms > 0.0)
                .collect();
            (!pts.is_empty()).then_some((j, pts))
        })
        .collect();
    let lo = curves
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold(f64::INFINITY, f64::min);
    let hi = curves
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold(0.0, f64::max);
    let (lo, hi) = if curves.is_empty() {
        (0.01, 10.0)
    } else {
        (lo / 1.5, hi * 1.5)
    };
    let (n, rate, secs) = cfg.paced;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("paced ({n} clients x {rate} msg/s, {secs} s): latency distribution"),
            ("sans-serif", 15),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("send to receipt, ms (log)")
        .y_desc("% of deliveries within")
        .x_label_formatter(&|x| short(*x))
        .draw()?;
    for (j, pts) in curves {
        let color = COLORS[j % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(label(&who[j]))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// Memory per idle client at the largest step, stacked: resident, kernel
/// stack, TCP buffers.
fn memory<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    cfg: &Config,
    all: &[Scenario],
    who: &[String],
) -> Result<(), Err>
where
    DB::ErrorType: 'static,
{
    let k = cfg.idle_steps.last().copied().unwrap_or(0);
    let parts = [
        "rss_per_client",
        "kernel_stack_per_client",
        "socket_buffers_per_client",
    ];
    let names = ["resident (RSS)", "kernel stack", "TCP buffers"];
    let stacks: Vec<[f64; 3]> = who
        .iter()
        .map(|s| {
            parts.map(|p| {
                find(all, "idle", s, &format!("idle_{k}.{p}"))
                    .map_or(0.0, |(_, r)| r.median.max(0.0))
            })
        })
        .collect();
    let top = stacks
        .iter()
        .map(|s| s.iter().sum::<f64>())
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("memory per idle client at {k} clients, KiB"),
            ("sans-serif", 15),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..who.len().max(1) as f64, 0.0..top)?;
    chart.configure_mesh().disable_x_mesh().x_labels(0).draw()?;
    let names_on_top = stacks.iter().enumerate().map(|(i, s)| {
        Text::new(
            format!(
                "{} {}",
                short_name(&who[i]),
                trim((s.iter().sum::<f64>() * 10.0).round() / 10.0)
            ),
            (i as f64 + 0.5, s.iter().sum::<f64>() + top * 0.01),
            ("sans-serif", 11)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    });
    chart.draw_series(names_on_top)?;
    let shades = [
        COLORS[0],
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    for (p, name) in names.iter().enumerate() {
        let color = shades[p];
        let rects: Vec<Rectangle<(f64, f64)>> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let y0: f64 = s[..p].iter().sum();
                let x0 = i as f64 + 0.2;
                Rectangle::new([(x0, y0), (x0 + 0.6, y0 + s[p])], color.filled())
            })
            .collect();
        chart
            .draw_series(rects)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

fn short_name(server: &str) -> String {
    match server {
        "tokio" => "tokio-tungstenite".into(),
        "node" => "ws".into(),
        "python" => "websockets".into(),
        other => other.into(),
    }
}

/// 12000000 -> "12M", 0.05 -> "0.05".
fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

/// Three significant digits at most, no trailing zeros.
fn trim(v: f64) -> String {
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else if v >= 1.0 {
        2
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
