//! Percentiles, result rows, the printed table and the JSON document.
//!
//! Percentiles are nearest-rank on the sorted samples (p99 of 100 samples
//! is the 99th smallest), so every figure printed is a real observation.

use serde_json::{Value, json};

/// p50, p99 and max of a set of samples, in the samples' unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarise `samples`; `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Summary {
            n: v.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: v[v.len() - 1],
        })
    }
}

/// One line of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    /// What was measured.
    pub measure: String,
    /// Under which conditions (process counts, sample).
    pub conditions: String,
    /// The unit of the figures (`ms`, `%`, `MB`).
    pub unit: &'static str,
    /// The figures.
    pub summary: Summary,
    /// The target, if the brief sets one, as (p99 or value) <= target.
    pub target: Option<f64>,
}

impl Row {
    /// A row from samples, or `None` if there are none.
    pub fn new(
        measure: impl Into<String>,
        conditions: impl Into<String>,
        unit: &'static str,
        samples: &[f64],
        target: Option<f64>,
    ) -> Option<Row> {
        Some(Row {
            measure: measure.into(),
            conditions: conditions.into(),
            unit,
            summary: Summary::of(samples)?,
            target,
        })
    }

    fn verdict(&self) -> &'static str {
        match self.target {
            None => "",
            Some(t) if self.summary.p99 <= t => "met",
            Some(_) => "MISSED",
        }
    }

    /// This row as JSON.
    pub fn json(&self) -> Value {
        json!({
            "measure": self.measure,
            "conditions": self.conditions,
            "unit": self.unit,
            "n": self.summary.n,
            "p50": self.summary.p50,
            "p99": self.summary.p99,
            "max": self.summary.max,
            "target": self.target,
            "verdict": self.verdict(),
        })
    }
}

/// Print `rows` as a Markdown table.
pub fn print_table(rows: &[Row]) {
    println!("| measure | conditions | n | p50 | p99 | max | target (p99) | |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        let s = r.summary;
        let u = r.unit;
        let target = r.target.map(|t| format!("≤ {t} {u}")).unwrap_or_default();
        println!(
            "| {} | {} | {} | {:.2} {u} | {:.2} {u} | {:.2} {u} | {target} | {} |",
            r.measure,
            r.conditions,
            s.n,
            s.p50,
            s.p99,
            s.max,
            r.verdict()
        );
    }
}

/// Milliseconds from microseconds.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Facts about this machine that belong next to any figure.
pub fn machine() -> Value {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let ncpu = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({
        "nproc": ncpu,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "cpu": cpu,
        "loadavg": read("/proc/loadavg").trim(),
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_observations() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&v).expect("samples");
        assert_eq!((s.n, s.p50, s.p99, s.max), (100, 50.0, 99.0, 100.0));
        let one = Summary::of(&[7.0]).expect("one sample");
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
        assert_eq!(Summary::of(&[]), None);
    }
}
