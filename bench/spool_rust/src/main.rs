//! Rust's tempfile::SpooledTempFile on the small-access workloads of
//! bench/spool_bench.c (issue 16), so that bench/spool_bench.py can run it
//! interleaved with the C contenders and CPython.
//!
//!   spool_rust --json [--n N]     one round: a JSON object of seconds per workload
//!   spool_rust --ir WORKLOAD N    N operations of one workload after a fixed first
//!                                 pass (bench/spool_bench.py's callgrind counts)
//!
//! Workloads (N = 100,000 by default), as spool_bench.c's:
//!   w1_fresh_rust   N one-byte writes into a new SpooledTempFile (max 1 MiB),
//!                   creation and drop included: fresh memory;
//!   w1_reuse_rust   N one-byte writes over a file that holds N bytes already;
//!   r1_reuse_rust   N one-byte reads of such a file.
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Instant;
use tempfile::SpooledTempFile;

const MIB: usize = 1 << 20;

/// A value the optimizer cannot see through (std::hint::black_box needs Rust
/// 1.66; Debian 12 ships 1.63).
fn opaque<T: Copy>(x: T) -> T {
    unsafe { std::ptr::read_volatile(&x) }
}

fn filled(n: usize) -> SpooledTempFile {
    let mut f = SpooledTempFile::new(if n > MIB { 64 * MIB } else { MIB });
    for _ in 0..n {
        f.write_all(b"x").unwrap();
    }
    f.seek(SeekFrom::Start(0)).unwrap();
    f
}

fn w1_fresh(n: usize, _fill: usize) -> f64 {
    let t = Instant::now();
    let mut f = SpooledTempFile::new(MIB);
    for _ in 0..n {
        f.write_all(opaque(b"x")).unwrap();
    }
    assert_eq!(opaque(f.stream_position().unwrap()), n as u64);
    drop(f);
    t.elapsed().as_secs_f64()
}

fn w1_reuse(n: usize, fill: usize) -> f64 {
    let mut f = filled(fill);
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(opaque(b"x")).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    assert!(!f.is_rolled());
    s
}

fn r1_reuse(n: usize, fill: usize) -> f64 {
    let mut f = filled(fill);
    let mut c = [0u8; 1];
    let t = Instant::now();
    for _ in 0..n {
        if f.read(&mut c).unwrap() != 1 {
            panic!("short read");
        }
    }
    opaque(c);
    t.elapsed().as_secs_f64()
}

/// --ir's first pass (as spool_bench.c's IR_FILL), and the most operations it counts.
const IR_FILL: usize = 1_000_000;

const WORKLOADS: &[(&str, fn(usize, usize) -> f64)] = &[
    ("w1_fresh_rust", w1_fresh),
    ("w1_reuse_rust", w1_reuse),
    ("r1_reuse_rust", r1_reuse),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut n = 100_000usize;
    let mut i = 1;
    let mut ir: Option<(String, usize)> = None;
    while i < args.len() {
        match args[i].as_str() {
            "--json" => {}
            "--n" => {
                n = args[i + 1].parse().expect("--n N");
                i += 1;
            }
            "--ir" => {
                ir = Some((args[i + 1].clone(), args[i + 2].parse().expect("--ir W N")));
                i += 2;
            }
            a => {
                eprintln!("usage: spool_rust --json [--n N] | --ir WORKLOAD N ({a}?)");
                std::process::exit(2);
            }
        }
        i += 1;
    }
    if let Some((w, count)) = ir {
        let (_, run) = WORKLOADS.iter().find(|(name, _)| *name == w).expect("no such workload");
        assert!(count <= IR_FILL);
        run(count, IR_FILL);
        return;
    }
    let parts: Vec<String> = WORKLOADS
        .iter()
        .map(|(name, run)| format!("\"{}\": {:.9}", name, run(n, n)))
        .collect();
    println!("{{\"n\": {}, {}}}", n, parts.join(", "));
}
