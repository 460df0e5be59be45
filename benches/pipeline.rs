//! Criterion benchmarks of the pipeline (filled in by the benchmark kit).
fn main() {}
