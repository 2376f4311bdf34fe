//! Memory-store flow throughput with 1 and 2 worker threads, beside the same for the
//! flow's floor alone (the control: what this machine gives a second thread).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use oauth_bench::fixture::{self, FlowRequests, Tokens, VERIFIER};
use oauth_bench::floor::Floor;
use oauth_bench::measure;
use oauth_bench::report::{self, Row};
use oauth_core::CodeChallenge;
use oauth_store_memory::MemoryStore;
use tokio::runtime::Runtime;

/// Memory-store flows per second with 1 and with 2 worker threads (8 tasks), and the
/// same for the flow's floor alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scaling {
    pub(crate) one_thread: f64,
    pub(crate) two_threads: f64,
    pub(crate) floor_one: f64,
    pub(crate) floor_two: f64,
}

/// Measures [`Scaling`]: 8 tasks in short bursts that alternate between 1 and 2
/// workers, with a purge after each burst, so the store stays at a steady size (as a
/// server that purges does) instead of growing by hundreds of megabytes, whose page
/// faults and rehashes would be measured instead.
pub(crate) fn measure(
    rt: &Runtime,
    shared_requests: &Arc<FlowRequests>,
    throughput_time: Duration,
) -> Scaling {
    let scaling_engine =
        Arc::new(rt.block_on(fixture::engine(MemoryStore::new(), Tokens::Opaque, &[])));
    let mut one = Vec::new();
    let mut two = Vec::new();
    let mut floor_one = Vec::new();
    let mut floor_two = Vec::new();
    let bursts = 12;
    for round in 0..2 * bursts {
        let workers = if round % 2 == 0 { 1 } else { 2 };
        let (engine, requests) = (scaling_engine.clone(), shared_requests.clone());
        let rate = measure::throughput(workers, 8, throughput_time / bursts, move || {
            let (engine, requests) = (engine.clone(), requests.clone());
            async move {
                black_box(fixture::full_flow(&engine, &requests).await);
            }
        });
        rt.block_on(fixture::recycle(&scaling_engine));
        // The control: the flow's floor alone, which shares nothing between threads. What
        // it gains from a second thread is what this machine gave a second thread.
        let floor_rate = measure::throughput(workers, 8, throughput_time / bursts, || {
            let challenge = CodeChallenge::from_verifier(VERIFIER);
            async move {
                black_box(Floor::new().opaque_flow(VERIFIER, challenge.as_str()));
            }
        });
        if workers == 1 {
            one.push(rate);
            floor_one.push(floor_rate);
        } else {
            two.push(rate);
            floor_two.push(floor_rate);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let one_thread = one.iter().sum::<f64>() / one.len() as f64;
    let two_threads = two.iter().sum::<f64>() / two.len() as f64;
    Scaling {
        one_thread,
        two_threads,
        floor_one: mean(&floor_one),
        floor_two: mean(&floor_two),
    }
}

impl Scaling {
    /// The table's rows: each rate, the scaling, the control's, and the one against the
    /// other.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let Scaling {
            one_thread,
            two_threads,
            floor_one,
            floor_two,
        } = *self;
        let floor_scaling = floor_two / floor_one;
        let mut rows = Vec::new();
        rows.push(Row::per_second(
            "Memory-store flow, 1 worker thread (8 tasks)",
            one_thread,
            "—",
            None,
        ));
        let scaling = two_threads / one_thread;
        rows.push(Row {
            operation: "Memory-store flow, 2 worker threads (8 tasks)".to_owned(),
            ..Row::per_second("", two_threads, "1 worker thread", None)
        });
        rows.push(Row {
            operation: "Scaling from 1 to 2 worker threads".to_owned(),
            value: format!("{scaling:.2}×"),
            floor: "1 worker thread".to_owned(),
            floor_value: format!("{} flows/s", report::ns(one_thread)),
            ratio: format!("{scaling:.2}×"),
            target: "≥ 1.7×".to_owned(),
            met: Some(scaling >= 1.7),
        });
        rows.push(Row {
            operation: "Control: scaling of the flow's floor alone (shares nothing)".to_owned(),
            value: format!("{floor_scaling:.2}×"),
            floor: "what this machine gave a second thread".to_owned(),
            floor_value: format!(
                "{} → {} floors/s",
                report::ns(floor_one),
                report::ns(floor_two)
            ),
            ratio: format!("{floor_scaling:.2}×"),
            target: "—".to_owned(),
            met: None,
        });
        rows.push(Row {
            operation: "Flow scaling relative to the control".to_owned(),
            value: format!("{:.2}", scaling / floor_scaling),
            floor: "1.00 = scales as well as work that shares nothing".to_owned(),
            floor_value: "—".to_owned(),
            ratio: format!("{:.2}", scaling / floor_scaling),
            target: "—".to_owned(),
            met: None,
        });
        rows
    }
}
