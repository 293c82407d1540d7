//! A short soak (`reins-bench soak`'s harness, run small): 10 agents, 3
//! phones on a real Mosquitto and 300 approval requests a minute for 30 s,
//! with stops, pauses and resumes from phones and the CLI, a phone offline
//! and back, the broker restarted once and the daemon SIGKILLed once. It
//! asserts only correctness (the checker's findings: nothing lost, nothing
//! answered twice, no allow without its decision, every stopped tree gone,
//! every phone's view equal to the daemon's, the audit chain intact), never
//! a duration. The figures come from the benchmark (`docs/performance.md`).

#[allow(dead_code, unused_imports)]
#[path = "../src/bench/mod.rs"]
mod bench;

use bench::procs::Bins;
use bench::soak::SoakOpts;
use std::path::PathBuf;
use std::time::Duration;

#[test]
fn a_short_soak_with_a_broker_restart_and_a_daemon_kill_loses_nothing() {
    let fake_agent = PathBuf::from(env!("CARGO_BIN_EXE_fake-agent"));
    let reins = fake_agent.with_file_name("reins");
    assert!(
        reins.exists(),
        "{} is missing: run `cargo build -p reins` before these tests",
        reins.display()
    );
    let bins = Bins { fake_agent, reins };
    let opts = SoakOpts {
        duration: Duration::from_secs(30),
        agents: 10,
        phones: 3,
        rate_per_min: 300,
        flood_per_s: None,
        approval_timeout: Duration::from_secs(3),
        sample_every: Duration::from_secs(5),
        faults: true,
        verbose: true,
    };
    let g = bench::soak::run::soak(&bins, &opts).expect("the soak ran");
    let f = bench::soak::check::check(&g);
    bench::soak::report::print(&g, &f);
    assert!(f.clean(), "the soak broke a promise: {f:#?}");
    // It did exercise what it claims to.
    assert!(f.requests > 50, "only {} requests were raised", f.requests);
    assert!(f.allowed > 0 && f.denied > 0 && f.abstained > 0, "{f:?}");
    assert!(!g.stops.is_empty() && !g.halts.is_empty());
    assert!(g.daemon_killed.is_some() && g.broker_restarted.is_some());
}
