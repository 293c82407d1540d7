//! A stand-in agent process for tests: a real process that tests copy under
//! an agent's name (`claude`, `cursor-agent`, ...) so its exe matches a
//! signature. With no arguments it sleeps until killed. Other modes build
//! process trees for the halt tests; see `usage()`.
//!
//! It is deliberately tiny and dependency-free (only libc), so that copies
//! start fast and behave like ordinary programs.

fn usage() -> &'static str {
    "fake-agent [MODE ...]\n  (no args)  sleep until killed\n"
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--help") {
        print!("{}", usage());
        return;
    }
    loop {
        std::thread::park();
    }
}
