//! Times `Scanner::scan` on this machine as it is, with the built-in
//! signatures, and prints nearest-rank percentiles. A measuring aid for
//! `docs/performance.md`, next to `reins-bench scan` (which starts its own
//! fillers right before measuring, so its first ~2 s of scans re-read them
//! all as young processes). Start the processes you want on the machine,
//! wait a few seconds, then:
//!
//! ```text
//! cargo run --release -p reins-detect --example scan_times -- [SCANS] [SPACING_MS]
//! ```

use reins_detect::{Scanner, SignatureTable};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut num = |default: u64| args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let (n, spacing) = (num(100).max(1) as usize, Duration::from_millis(num(1000)));
    let mut scanner = Scanner::new(SignatureTable::builtin()).expect("a readable /proc");
    let t = Instant::now();
    scanner.scan();
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    let mut ms: Vec<f64> = (0..n)
        .map(|_| {
            std::thread::sleep(spacing);
            let t = Instant::now();
            scanner.scan();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let rank = |p: usize| ms[(n * p).div_ceil(100).max(1) - 1];
    println!(
        "{n} scans {spacing:?} apart: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (cold {cold:.2} ms)",
        rank(50),
        rank(99),
        ms[n - 1]
    );
}
