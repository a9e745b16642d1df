//! Rendering panels to SVG with plotters: the title, the legend strip above the plot,
//! the window labels, the panels in a grid. Writes integer pixel coordinates.

use super::axis::Axis;
use super::panel::{Layer, LegendItem, Panel, Swatch, Window};
use super::style::{
    CHAR_W, FONT, GREY, GRID, HEIGHT, INK, LABEL_SIZE, LEGEND_ROW_H, SMALL_CHAR_W, SMALL_SIZE, TITLE_H,
    TITLE_SIZE, WIDTH, WINDOW_ROW_H,
};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::{
    ChartBuilder, Circle, Color, DrawingArea, IntoDrawingArea, IntoFont, PathElement, Polygon, RGBColor,
    Rectangle, SVGBackend, TRANSPARENT, Text, TextStyle, WHITE,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(super) type Res = Result<(), Box<dyn std::error::Error>>;

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(super) fn text_style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle { font: (FONT, size).into_font(), color: color.to_backend_color(), pos: Pos::new(h, v) }
}

pub(super) fn text_w(s: &str, char_w: f64) -> i32 {
    (s.chars().count() as f64 * char_w).ceil() as i32
}

/// Lays the legend out in rows that fit `width`; returns each item's `(x, row)`.
pub(super) fn legend_layout(items: &[LegendItem], width: i32) -> (Vec<(i32, i32)>, i32) {
    let mut pos = Vec::new();
    let (mut x, mut row) = (0, 0);
    for it in items {
        let w = 28 + text_w(&it.label, CHAR_W) + 22;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        pos.push((x, row));
        x += w;
    }
    (pos, if items.is_empty() { 0 } else { row + 1 })
}

/// Renders a whole chart: a title, a legend strip, and a grid of panels (`rows` of
/// `cols`), each row `row_h` pixels high.
pub(super) fn render(
    title: &str,
    legend: &[LegendItem],
    panels: &[Panel],
    cols: usize,
    row_h: u32,
) -> String {
    let cols = cols.max(1);
    let rows = panels.len().div_ceil(cols).max(1);
    let legend = with_step_item(legend, panels);
    let legend = legend.as_slice();
    let (legend_pos, legend_rows) = legend_layout(legend, WIDTH as i32 - 32);
    let top = TITLE_H + legend_rows * LEGEND_ROW_H + if legend_rows > 0 { 4 } else { 0 };
    let height = top as u32 + rows as u32 * row_h;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        // A failure to draw leaves a partial SVG; it cannot happen with a string backend
        // short of a plotters bug, and a chart is not worth a panic.
        let _ = draw_all(&root, title, legend, &legend_pos, top, panels, cols, rows, row_h);
        let _ = root.present();
    }
    svg
}

/// The legend, with an item for the load steps' rules when some panel draws one (their
/// labels say which workload and what rate; the item says what a rule is).
fn with_step_item(legend: &[LegendItem], panels: &[Panel]) -> Vec<LegendItem> {
    let mut out = legend.to_vec();
    if let Some(w) = panels.iter().flat_map(|p| &p.windows).find(|w| w.rule) {
        out.push(LegendItem { label: STEP_LEGEND.into(), color: w.ink.to_rgba(), swatch: Swatch::Rule });
    }
    out
}

/// The legend item of the load steps' rules.
pub(super) const STEP_LEGEND: &str = "load step: a workload's rate changes (its schedule)";

#[allow(clippy::too_many_arguments)]
pub(super) fn draw_all(
    root: &Area,
    title: &str,
    legend: &[LegendItem],
    legend_pos: &[(i32, i32)],
    top: i32,
    panels: &[Panel],
    cols: usize,
    rows: usize,
    row_h: u32,
) -> Res {
    root.fill(&WHITE)?;
    root.draw(&Text::new(title.to_string(), (16, 9), text_style(TITLE_SIZE, INK, HPos::Left, VPos::Top)))?;
    for (it, (x, row)) in legend.iter().zip(legend_pos) {
        let x0 = 16 + x;
        let yc = TITLE_H + row * LEGEND_ROW_H + LEGEND_ROW_H / 2;
        match it.swatch {
            Swatch::Line => {
                root.draw(&PathElement::new(vec![(x0, yc), (x0 + 22, yc)], it.color.stroke_width(3)))?;
            }
            Swatch::Rule => {
                root.draw(&PathElement::new(
                    vec![(x0 + 11, yc - 8), (x0 + 11, yc + 8)],
                    it.color.stroke_width(1),
                ))?;
            }
            Swatch::Area => {
                root.draw(&Rectangle::new([(x0 + 3, yc - 6), (x0 + 19, yc + 6)], it.color.filled()))?;
            }
        }
        root.draw(&Text::new(
            it.label.clone(),
            (x0 + 28, yc),
            text_style(LABEL_SIZE, INK, HPos::Left, VPos::Center),
        ))?;
    }
    let body = root.clone().shrink((0, top), (WIDTH, rows as u32 * row_h));
    let ys: Vec<i32> = (1..rows).map(|r| (r as u32 * row_h) as i32).collect();
    let xs: Vec<i32> = (1..cols).map(|c| (c as u32 * WIDTH / cols as u32) as i32).collect();
    let areas = body.split_by_breakpoints(xs, ys);
    // Panels of one column share the width of their y labels, so that their time axes
    // line up.
    let col_y_area: Vec<i32> =
        (0..cols).map(|c| panels.iter().skip(c).step_by(cols).map(y_label_area).max().unwrap_or(0)).collect();
    for (i, (panel, area)) in panels.iter().zip(areas.iter()).enumerate() {
        draw_panel(root, area, panel, col_y_area[i % cols])?;
    }
    Ok(())
}

/// The most rows of window labels above a plot: enough for the warm-up, two faults and
/// two load steps that fall close together in a half-width panel; a label that finds no
/// room in them shares the last row.
const MAX_LABEL_ROWS: usize = 5;

/// Width of the y tick labels and the y axis title.
pub(super) fn y_label_area(p: &Panel) -> i32 {
    (p.y.max_label_chars() as f64 * CHAR_W) as i32 + 12 + if p.y.desc.is_empty() { 0 } else { 22 }
}

pub(super) fn draw_panel(root: &Area, area: &Area, p: &Panel, y_area: i32) -> Res {
    let (xr, yr) = area.get_pixel_range();
    let heading_h = if p.heading.is_some() { 18 } else { 0 };
    let x_area = if p.x_desc { 48 } else { 26 };
    let (m_left, m_right) = (8, 20);
    let plot_l = xr.start + m_left + y_area;
    let plot_r = xr.end - m_right;
    let (xlo, xhi) = (p.x.lo, if p.x.hi > p.x.lo { p.x.hi } else { p.x.lo + 1.0 });
    let px = |x: f64| plot_l + ((x - xlo) / (xhi - xlo) * (plot_r - plot_l) as f64).round() as i32;

    // Window labels, in as many rows as they need not to overlap.
    let mut labels: Vec<(i32, usize, &Window)> = Vec::new();
    let mut row_ends: Vec<i32> = Vec::new();
    if p.window_labels {
        let mut order: Vec<&Window> = p.windows.iter().collect();
        order.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        for w in order {
            let tw = text_w(&w.label, SMALL_CHAR_W);
            let mut x = px(w.x0.max(xlo)) + 3;
            if x + tw > plot_r {
                x = (plot_r - tw).max(plot_l);
            }
            let row = match row_ends.iter().position(|e| *e + 8 <= x) {
                Some(r) => r,
                None if row_ends.len() < MAX_LABEL_ROWS => {
                    row_ends.push(i32::MIN);
                    row_ends.len() - 1
                }
                None => row_ends.len() - 1,
            };
            row_ends[row] = x + tw;
            labels.push((x, row, w));
        }
    }
    let label_h = row_ends.len() as i32 * WINDOW_ROW_H;
    let m_top = 6 + heading_h + label_h + if label_h > 0 { 3 } else { 0 };

    if let Some(h) = &p.heading {
        root.draw(&Text::new(
            h.clone(),
            (plot_l, yr.start + 5),
            text_style(LABEL_SIZE, INK, HPos::Left, VPos::Top),
        ))?;
    }

    let (ylo, yhi) = (p.y.lo, if p.y.hi > p.y.lo { p.y.hi } else { p.y.lo + 1.0 });
    let xcoord = TickRange { lo: xlo, hi: xhi, ticks: p.x.ticks.clone() };
    let ycoord = TickRange { lo: ylo, hi: yhi, ticks: p.y.ticks.clone() };
    let mut chart = ChartBuilder::on(area)
        .margin_top(m_top)
        .margin_bottom(6)
        .margin_left(m_left)
        .margin_right(m_right)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(xcoord, ycoord)?;

    // Windows first, under everything else.
    let min_w = (xhi - xlo) / 450.0;
    for w in p.windows.iter().filter(|w| !w.rule) {
        let x0 = w.x0.max(xlo);
        let x1 = w.x1.min(xhi).max(x0 + min_w);
        chart.draw_series(std::iter::once(Rectangle::new([(x0, ylo), (x1, yhi)], w.fill.filled())))?;
    }

    let xfmt = |v: &f64| p.x.label(*v);
    let yfmt = |v: &f64| p.y.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(GREY.stroke_width(1))
        .label_style(text_style(LABEL_SIZE, INK, HPos::Center, VPos::Top))
        .axis_desc_style(text_style(LABEL_SIZE, INK, HPos::Center, VPos::Top))
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_labels(p.x.ticks.len())
        .y_labels(p.y.ticks.len());
    if p.x_desc {
        mesh.x_desc(p.x.desc.clone());
    }
    if !p.y.desc.is_empty() {
        mesh.y_desc(p.y.desc.clone());
    }
    mesh.draw()?;
    // The load steps' rules over the grid and the shading, under the data.
    for w in p.windows.iter().filter(|w| w.rule && w.x0 >= xlo && w.x0 <= xhi) {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(w.x0, ylo), (w.x0, yhi)],
            w.ink.stroke_width(1),
        )))?;
    }

    for layer in &p.layers {
        match layer {
            Layer::Line { pts, color, width } => {
                let style = color.stroke_width(*width);
                for run in finite_runs(pts, &p.x, &p.y) {
                    if run.len() == 1 {
                        chart.draw_series(std::iter::once(Circle::new(
                            run[0],
                            2 + *width / 2,
                            color.filled(),
                        )))?;
                    } else {
                        chart.draw_series(std::iter::once(PathElement::new(run, style)))?;
                    }
                }
            }
            Layer::Band { xs, lower, upper, color } => {
                let n = xs.len().min(lower.len()).min(upper.len());
                if n >= 2 {
                    let mut poly: Vec<(f64, f64)> =
                        (0..n).map(|i| (p.x.map(xs[i]), p.y.map(clean(upper[i])))).collect();
                    poly.extend((0..n).rev().map(|i| (p.x.map(xs[i]), p.y.map(clean(lower[i])))));
                    chart.draw_series(std::iter::once(Polygon::new(poly, color.filled())))?;
                }
            }
            Layer::Rects(rects) => {
                chart.draw_series(rects.iter().map(|(x0, x1, y0, y1, c)| {
                    Rectangle::new([(p.x.map(*x0), p.y.map(*y0)), (p.x.map(*x1), p.y.map(*y1))], c.filled())
                }))?;
            }
            Layer::Labels { width, items } => {
                for (x, y, text, color) in items {
                    let y = p.y.map(*y);
                    let l = chart.backend_coord(&(p.x.map(x - width / 2.0), y)).0;
                    let r = chart.backend_coord(&(p.x.map(x + width / 2.0), y)).0;
                    if text_w(text, SMALL_CHAR_W) + 8 <= r - l {
                        let at = chart.backend_coord(&(p.x.map(*x), y));
                        root.draw(&Text::new(
                            text.clone(),
                            at,
                            text_style(SMALL_SIZE, *color, HPos::Center, VPos::Center),
                        ))?;
                    }
                }
            }
        }
    }

    // The plot's frame on top of the windows and the data.
    let (tl, br) = (chart.backend_coord(&(xlo, yhi)), chart.backend_coord(&(xhi, ylo)));
    root.draw(&Rectangle::new([tl, br], GREY.stroke_width(1)))?;

    let label_top = yr.start + 6 + heading_h;
    for (x, row, w) in &labels {
        let y = label_top + *row as i32 * WINDOW_ROW_H;
        root.draw(&Text::new(
            w.label.clone(),
            (*x, y),
            text_style(SMALL_SIZE, w.ink, HPos::Left, VPos::Top),
        ))?;
    }
    if let Some(note) = &p.note {
        let c = ((tl.0 + br.0) / 2, (tl.1 + br.1) / 2);
        root.draw(&Text::new(note.clone(), c, text_style(LABEL_SIZE, GREY, HPos::Center, VPos::Center)))?;
    }
    Ok(())
}

/// A linear coordinate whose ticks are the ones computed here (plotters' own choice of
/// key points cannot be told to put ticks at 50%, 90%, 99%… or at 1-2-5 on a log axis).
#[derive(Clone, Debug)]
pub(super) struct TickRange {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
}

impl Ranged for TickRange {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let r = (v - self.lo) / (self.hi - self.lo);
        let px = limit.0 as f64 + r * (limit.1 - limit.0) as f64;
        // Far-off values (a clipped outlier) must not overflow the pixel type.
        px.clamp(-1e6, 1e6).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

pub(super) fn clean(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Maximal runs of finite points, mapped to coordinates.
pub(super) fn finite_runs(pts: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for (a, b) in pts {
        if a.is_finite() && b.is_finite() {
            cur.push((x.map(*a), y.map(*b)));
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Height of the single row of a chart with this legend, so that the whole chart is
/// `HEIGHT` pixels high (more when the legend needs several rows).
pub(super) fn single_row_h(legend: &[LegendItem]) -> u32 {
    let rows = legend_layout(legend, WIDTH as i32 - 32).1;
    let top = TITLE_H + rows * LEGEND_ROW_H + if rows > 0 { 4 } else { 0 };
    (HEIGHT as i32 - top).max(330) as u32
}
