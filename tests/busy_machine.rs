//! The daemon on a machine whose every core other work keeps busy.
//!
//! A test binary of its own: its busy threads would slow every test running
//! beside it, and cargo runs test binaries one after the other.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

/// When other processes keep every core busy, a changed feed still gets
/// its gzip body soon: compression runs at normal priority, sharing the
/// CPU, not waiting for idle CPU that may never come.
#[test]
fn compressed_bodies_follow_even_when_no_cpu_is_idle() {
    let d = Daemon::start();
    let stop = AtomicBool::new(false);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let waited = std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            });
        }
        let title = "Cotton Arrivals Climb Ahead of the Ginning Season";
        d.write_article("business/cotton.txt", &story(title, "Business", "cotton"));
        d.wait_feed("/feeds/business.rss", "listed the article", |b| {
            b.contains(title)
        });
        let listed = Instant::now();
        let gzipped = wait_until(
            || {
                let r = d.get_with("/feeds/business.rss", &[("Accept-Encoding", "gzip")]);
                r.header("content-encoding") == Some("gzip") && r.status == 200
            },
            Duration::from_secs(3),
        );
        stop.store(true, Ordering::Relaxed);
        gzipped.then(|| listed.elapsed())
    });
    assert!(
        waited.is_some(),
        "no gzip body within 3 s while every core was busy\n{}",
        d.log()
    );
}
