//! Output of a run: the [`Summary`] (every figure a run shows, typed, whose JSON is the
//! contract listed in README.md), the tidy time-series CSV, the readable tables that
//! `faultline run` and `faultline compare` print, and the output folder that every file
//! goes through ([`write_out_dir`]).
//!
//! Everything here is a pure function of the spec and the run's figures, so the same
//! run gives the same bytes. Maps keep the scenario's order, never hash order. No
//! wall-clock time appears in any output.

mod csv;
mod out_dir;
mod phases;
pub mod summary;
mod table;
mod table_guards;
pub mod thresholds;

pub use csv::timeseries_csv;
pub use out_dir::{MANIFEST, OutError, check_out_dir, write_out_dir};
pub use phases::{
    RECOVERY_P99_FACTOR, RECOVERY_RUN, RECOVERY_SUCCESS_PP, Reference, p99_reference_level, recovered_after,
};
pub use summary::{Summary, summary_json};
#[allow(unused_imports)] // r3: no reader left since the pages round once, from exact values
pub(crate) use summary::{r3, r6};
pub use table::{compare_table, summary_table, text_table};

/// Milliseconds with three significant figures or so, as every table prints them.
pub(crate) fn ms_text(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
