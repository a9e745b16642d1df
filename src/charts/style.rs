//! The palette (colour-blind safe, Okabe–Ito) and the layout constants in pixels.

use crate::spec::Cause;
use plotters::prelude::RGBColor;

/// Okabe–Ito colours (readable by colour-blind readers) plus a few neutrals.
pub(super) const BLUE: RGBColor = RGBColor(0, 114, 178);

pub(super) const VERMILLION: RGBColor = RGBColor(213, 94, 0);

pub(super) const GREEN: RGBColor = RGBColor(0, 158, 115);

pub(super) const PINK: RGBColor = RGBColor(204, 121, 167);

pub(super) const ORANGE: RGBColor = RGBColor(230, 159, 0);

pub(super) const SKY: RGBColor = RGBColor(86, 180, 233);

pub(super) const PURPLE: RGBColor = RGBColor(117, 112, 179);

pub(super) const BROWN: RGBColor = RGBColor(140, 86, 75);

pub(super) const DARK_RED: RGBColor = RGBColor(178, 24, 43);

pub(super) const INK: RGBColor = RGBColor(40, 40, 40);

pub(super) const GREY: RGBColor = RGBColor(120, 120, 120);

pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);

/// Lines of a comparison, one per variant, in variant order (cycled beyond ten).
pub(super) const SERIES_PALETTE: [RGBColor; 10] =
    [BLUE, VERMILLION, GREEN, PINK, ORANGE, SKY, BROWN, PURPLE, RGBColor(80, 80, 80), RGBColor(150, 150, 30)];

pub(super) fn cause_color(c: Cause) -> RGBColor {
    match c {
        Cause::Timeout => VERMILLION,
        Cause::Rejected => ORANGE,
        Cause::Unavailable => PINK,
        Cause::CircuitOpen => PURPLE,
        Cause::BulkheadFull => BROWN,
        Cause::Error => DARK_RED,
        Cause::Declined => GREY,
        Cause::RateLimited => SKY,
    }
}

/// Light fills of fault windows and the darker ink of their labels.
pub(super) const WINDOW_COLORS: [(RGBColor, RGBColor); 4] = [
    (RGBColor(255, 205, 150), RGBColor(160, 80, 0)),
    (RGBColor(205, 190, 240), RGBColor(90, 60, 150)),
    (RGBColor(175, 220, 245), RGBColor(20, 95, 145)),
    (RGBColor(245, 190, 210), RGBColor(155, 35, 85)),
];

/// The rule and label of a workload's load step (its `schedule`).
pub(super) const STEP_INK: RGBColor = RGBColor(60, 60, 60);

pub(super) const WARMUP_COLORS: (RGBColor, RGBColor) = (RGBColor(215, 215, 215), RGBColor(105, 105, 105));

pub(super) const WIDTH: u32 = 900;

pub(super) const HEIGHT: u32 = 450;

pub(super) const FONT: &str = "sans-serif";

/// plotters writes `font-size = size / 1.24`; these give 16, 12 and 11 px text.
pub(super) const TITLE_SIZE: f64 = 19.84;

pub(super) const LABEL_SIZE: f64 = 14.88;

pub(super) const SMALL_SIZE: f64 = 13.64;

/// Estimated width of one character of 12 px text (sans-serif runs 5.5 to 7 px).
pub(super) const CHAR_W: f64 = 6.8;

pub(super) const SMALL_CHAR_W: f64 = 6.3;

pub(super) const TITLE_H: i32 = 34;

pub(super) const LEGEND_ROW_H: i32 = 20;

pub(super) const WINDOW_ROW_H: i32 = 15;
