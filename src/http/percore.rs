//! Connections served one thread per core (the `tune` feature), as nginx
//! runs a worker process per core: each thread runs its own current-thread
//! runtime, and a connection stays on one thread, with no task handed
//! between threads mid-request. The first thread also accepts, and hands
//! each connection to a thread chosen by [`tune::placement`]: grouped by
//! the CPU its packets come in on, kept balanced. The threads run under
//! Linux `SCHED_BATCH` ([`tune::sched`]): when every core is busy a request
//! waits for the running thread's slice to end instead of preempting it,
//! and a busy server answers many requests per wake-up.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::conn::{accept, until_stopped, Connections, Serving};
use crate::site::Site;
use crate::tune::placement::{self, LiveSlot, Threads};
use crate::tune::sched;

/// A connection accepted on one serving thread for another to serve.
struct Handoff {
    stream: std::net::TcpStream,
    permit: OwnedSemaphorePermit,
    slot: LiveSlot,
}

/// How long a new connection may stay silent before it is placed without
/// knowing its CPU. A client sends its request as soon as it connects; one
/// that does not (a browser's preconnect) still goes to a thread, and
/// hyper's header timeout runs from there.
const FIRST_BYTES_WAIT: Duration = Duration::from_millis(100);

/// What the accepting thread needs besides a serving one.
struct Acceptor {
    listener: std::net::TcpListener,
    threads: Arc<[UnboundedSender<Handoff>]>,
    places: Arc<Threads>,
    limit: Arc<Semaphore>,
}

pub(super) fn serve(s: Serving) -> std::io::Result<()> {
    let Serving {
        listener,
        threads,
        site,
        limit,
        stop,
    } = s;
    let threads = threads.max(1);
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| unbounded_channel::<Handoff>()).unzip();
    let mut acceptor = Some(Acceptor {
        listener,
        threads: senders.into(),
        places: Arc::new(Threads::new(threads)),
        limit,
    });
    let handles = receivers
        .into_iter()
        .enumerate()
        .map(|(i, handed)| {
            let accepts = acceptor.take();
            let (site, stop) = (site.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("wirefeed-http-{i}"))
                .spawn(move || serve_thread(accepts, handed, site, stop))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    for t in handles {
        match t.join() {
            Ok(r) => r?,
            Err(_) => return Err(std::io::Error::other("a serving thread panicked")),
        }
    }
    Ok(())
}

/// One serving thread: serves the connections handed to it until `stop`,
/// then drains them; the first also accepts.
fn serve_thread(
    accepts: Option<Acceptor>,
    mut handed: UnboundedReceiver<Handoff>,
    site: Arc<Site>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    sched::batch();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        if let Some(a) = accepts {
            let listener = TcpListener::from_std(a.listener)?;
            let (threads, places) = (a.threads, a.places);
            tokio::spawn(accept(
                listener,
                a.limit,
                stop.clone(),
                move |stream, permit| {
                    tokio::spawn(hand_over(stream, threads.clone(), places.clone(), permit));
                },
            ));
        }
        let mut connections = Connections::new(site);
        let stopped = until_stopped(stop);
        tokio::pin!(stopped);
        loop {
            let next = tokio::select! {
                next = handed.recv() => next,
                _ = &mut stopped => None,
            };
            let Some(Handoff {
                stream,
                permit,
                slot,
            }) = next
            else {
                break;
            };
            match tokio::net::TcpStream::from_std(stream) {
                Ok(stream) => connections.serve(stream, (permit, slot)),
                Err(e) => tracing::warn!(error = %e, "cannot serve a handed-over connection"),
            }
        }
        connections.drain().await;
        Ok(())
    })
}

/// Hands `stream` to its serving thread once its first bytes came in (or
/// [`FIRST_BYTES_WAIT`] passed), when the kernel knows the CPU they came in
/// on.
async fn hand_over(
    stream: tokio::net::TcpStream,
    threads: Arc<[UnboundedSender<Handoff>]>,
    places: Arc<Threads>,
    permit: OwnedSemaphorePermit,
) {
    // Neither outcome is an error here: a silent or closed connection is
    // placed without a CPU, and hyper deals with it.
    let _ = tokio::time::timeout(FIRST_BYTES_WAIT, stream.readable()).await;
    let cpu = placement::incoming_cpu(&stream);
    let slot = places.place(cpu);
    let stream = match stream.into_std() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot hand a connection over");
            return;
        }
    };
    if let Some(thread) = threads.get(slot.thread()) {
        // Fails only when that thread has stopped: the connection closes.
        let _ = thread.send(Handoff {
            stream,
            permit,
            slot,
        });
    }
}
