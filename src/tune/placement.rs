//! Which serving thread a new connection goes to, for its whole life.
//!
//! A connection never moves between threads once hyper has it, so the
//! choice at accept time sets how its requests are scheduled. A client that
//! drives many keep-alive connections (a proxy, a load balancer, `wrk`)
//! does so from a few threads, each on some CPU. When every connection one
//! client thread drives is served by one serving thread, the two can take
//! turns on one core; spread over both serving threads, each round trip
//! waits for whichever of them is off-CPU, and the tail grows by a
//! scheduler slice. The kernel records, per socket, the CPU its incoming
//! packets were last processed on (`SO_INCOMING_CPU`: the client's CPU on
//! loopback, the receive queue's CPU for a network card), so connections
//! are grouped by that CPU once the client's first bytes have come in, and
//! kept balanced: a thread more than [`SLACK`] connections ahead of the
//! least busy one takes no more until the others catch up.
//! When every client thread sends its first bytes from one CPU, nothing
//! tells their connections apart, and they split by balance alone.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How many connections above the least busy thread the CPU's own thread
/// may have and still take one more. Bounded, so one busy receive CPU (a
/// single-queue card, or every client thread starting on one core) cannot
/// pile every connection on one thread. Not small, because a client's
/// threads do not connect in lockstep: one often opens a dozen connections
/// before another's come in, and those must still go to its CPU's thread.
pub const SLACK: usize = 16;

/// The serving threads' live connection counts, and which thread serves
/// connections coming in on which CPU.
pub struct Threads {
    live: Arc<[AtomicUsize]>,
    /// The CPUs this process may run on, in order: the n-th maps to thread
    /// `n % threads`.
    cpus: Vec<usize>,
}

impl Threads {
    pub fn new(threads: usize) -> Self {
        let live = (0..threads.max(1)).map(|_| AtomicUsize::new(0)).collect();
        Threads {
            live,
            cpus: allowed_cpus(),
        }
    }

    /// A place on the thread for a connection whose packets come in on
    /// `cpu` (if known), within [`SLACK`] of the least busy thread.
    pub fn place(&self, cpu: Option<usize>) -> LiveSlot {
        let counts: Vec<usize> = self
            .live
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let preferred = cpu.map(|cpu| self.thread_of_cpu(cpu));
        let thread = choose(&counts, preferred);
        self.live[thread].fetch_add(1, Ordering::Relaxed);
        LiveSlot {
            live: self.live.clone(),
            thread,
        }
    }

    fn thread_of_cpu(&self, cpu: usize) -> usize {
        let n = self.cpus.iter().position(|&c| c == cpu).unwrap_or(cpu);
        n % self.live.len()
    }
}

/// The thread for a new connection, given each thread's live connections:
/// `preferred` unless that would put it more than [`SLACK`] above the least
/// busy thread, which it is otherwise.
fn choose(counts: &[usize], preferred: Option<usize>) -> usize {
    let (least, fewest) = counts
        .iter()
        .enumerate()
        .min_by_key(|&(_, &n)| n)
        .map_or((0, 0), |(i, &n)| (i, n));
    match preferred {
        Some(p) if counts.get(p).is_some_and(|&n| n <= fewest + SLACK) => p,
        _ => least,
    }
}

/// The CPU the kernel last processed this connection's incoming packets on.
pub fn incoming_cpu(socket: impl AsFd) -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        rustix::net::sockopt::socket_incoming_cpu(socket)
            .ok()
            .and_then(|cpu| usize::try_from(cpu).ok())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        None
    }
}

fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    if let Ok(set) = rustix::thread::sched_getaffinity(None) {
        return (0..rustix::thread::CpuSet::MAX_CPU)
            .filter(|&c| set.is_set(c))
            .collect();
    }
    Vec::new()
}

/// Counts a connection on the thread serving it until it is dropped.
pub struct LiveSlot {
    live: Arc<[AtomicUsize]>,
    thread: usize,
}

impl LiveSlot {
    pub fn thread(&self) -> usize {
        self.thread
    }
}

impl Drop for LiveSlot {
    fn drop(&mut self) {
        self.live[self.thread].fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_goes_to_its_cpus_thread_while_the_load_stays_even() {
        assert_eq!(choose(&[10, 10], Some(1)), 1);
        assert_eq!(choose(&[10 + SLACK, 10], Some(0)), 0);
    }

    #[test]
    fn a_thread_too_far_ahead_gives_the_connection_to_the_least_busy() {
        assert_eq!(choose(&[11 + SLACK, 10], Some(0)), 1);
        assert_eq!(choose(&[3, 30, 1], Some(1)), 2);
    }

    #[test]
    fn without_a_cpu_the_least_busy_thread_serves() {
        assert_eq!(choose(&[5, 2, 7], None), 1);
        assert_eq!(choose(&[5, 2], Some(9)), 1);
    }

    fn two_threads(cpus: Vec<usize>) -> Threads {
        Threads {
            live: (0..2).map(|_| AtomicUsize::new(0)).collect(),
            cpus,
        }
    }

    #[test]
    fn without_a_cpu_each_connection_goes_to_the_thread_serving_the_fewest() {
        let threads = two_threads(vec![0, 1]);
        let on = |slots: &[LiveSlot]| slots.iter().map(LiveSlot::thread).collect::<Vec<_>>();
        // Connections opened at once split evenly.
        let mut slots: Vec<LiveSlot> = (0..4).map(|_| threads.place(None)).collect();
        assert_eq!(on(&slots), vec![0, 1, 0, 1]);
        // Two connections of thread 0 close: the next two go there.
        slots.retain(|s| s.thread() == 1);
        let next: Vec<LiveSlot> = (0..2).map(|_| threads.place(None)).collect();
        assert_eq!(on(&next), vec![0, 0]);
        drop((slots, next));
        assert!(threads.live.iter().all(|c| c.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn connections_all_from_one_cpu_end_up_balanced() {
        let threads = two_threads(vec![0, 1]);
        let slots: Vec<LiveSlot> = (0..64).map(|_| threads.place(Some(0))).collect();
        let on_first = slots.iter().filter(|s| s.thread() == 0).count();
        assert!((32..=32 + SLACK).contains(&on_first), "{on_first} of 64");
        drop(slots);
        assert!(threads.live.iter().all(|c| c.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn two_clients_interleaved_each_get_their_own_thread() {
        // CPUs 2 and 3 (a container's cpuset): threads 0 and 1.
        let threads = two_threads(vec![2, 3]);
        let slots: Vec<(usize, LiveSlot)> = (0..64)
            .map(|i| {
                let cpu = 2 + i % 2;
                (cpu, threads.place(Some(cpu)))
            })
            .collect();
        assert!(slots.iter().all(|(cpu, s)| s.thread() == cpu - 2));
    }

    #[test]
    fn a_client_that_connects_a_dozen_first_still_keeps_its_thread() {
        // How `wrk -t2 -c64` often connects: one thread's first dozen,
        // then both threads' connections interleaved.
        let threads = two_threads(vec![0, 1]);
        let cpus = std::iter::repeat_n(1, 12).chain((0..52).map(|i| i % 2));
        let slots: Vec<(usize, LiveSlot)> =
            cpus.map(|cpu| (cpu, threads.place(Some(cpu)))).collect();
        assert!(slots.iter().all(|(cpu, s)| s.thread() == *cpu));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_names_a_cpu_this_process_may_use_once_bytes_came_in() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client =
            std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        client.write_all(b"GET / HTTP/1.1\r\n").expect("write");
        let (mut conn, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).expect("read");
        let cpu = incoming_cpu(&conn).expect("SO_INCOMING_CPU");
        assert!(allowed_cpus().contains(&cpu), "cpu {cpu}");
    }
}
