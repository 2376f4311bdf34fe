//! Timing loops for what criterion does not measure (growth, throughput), and resident
//! memory.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `op` `per_round` times in each of `rounds` rounds, calling `between` (untimed)
/// after each round, and answers the median round's nanoseconds per operation.
pub async fn median_ns<Op, Between>(
    rounds: usize,
    per_round: usize,
    mut op: Op,
    mut between: Between,
) -> f64
where
    Op: AsyncFnMut(),
    Between: AsyncFnMut(),
{
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        for _ in 0..per_round.max(1) {
            op().await;
        }
        samples.push(start.elapsed().as_nanos() as f64 / per_round.max(1) as f64);
        between().await;
    }
    median(&mut samples)
}

/// Two implementations of one operation measured in the same rounds (see [`interleaved`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// The first side's median round, in nanoseconds per operation.
    pub first_ns: f64,
    /// The second side's median round, in nanoseconds per operation.
    pub second_ns: f64,
    /// The median over the rounds of first / second, each round's pair measured back to
    /// back: what a slower or faster stretch of a shared machine does to both cancels out.
    pub ratio: f64,
}

/// Measures two sides of one operation in alternating rounds: each round runs `first`
/// and `second` once each with `per_round` operations, and each answers the time its
/// operations took (any set-up it does for them, untimed, is not counted). The side that
/// runs first alternates from round to round, so that neither always follows the other
/// (a warm cache, a CPU boost). One warm-up round of each comes before the `rounds`.
pub async fn interleaved<First, Second>(
    rounds: usize,
    per_round: usize,
    mut first: First,
    mut second: Second,
) -> Paired
where
    First: AsyncFnMut(usize) -> Duration,
    Second: AsyncFnMut(usize) -> Duration,
{
    let per_round = per_round.max(1);
    first(per_round).await;
    second(per_round).await;
    let per_op = |elapsed: Duration| elapsed.as_nanos() as f64 / per_round as f64;
    let (mut firsts, mut seconds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        let (a, b) = if round % 2 == 0 {
            let a = per_op(first(per_round).await);
            (a, per_op(second(per_round).await))
        } else {
            let b = per_op(second(per_round).await);
            (per_op(first(per_round).await), b)
        };
        firsts.push(a);
        seconds.push(b);
        ratios.push(a / b.max(f64::MIN_POSITIVE));
    }
    Paired {
        first_ns: median(&mut firsts),
        second_ns: median(&mut seconds),
        ratio: median(&mut ratios),
    }
}

/// The median of `samples` (sorted in place); 0 for none.
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    match samples.len() {
        0 => 0.0,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2.0,
    }
}

/// Operations per second of `tasks` tasks, each running `op` in a loop for `duration`,
/// on a tokio runtime with `workers` worker threads. Each task watches the deadline itself
/// and yields now and then, so that operations which never wait (the memory store's) still
/// share the workers fairly.
pub fn throughput<F, Fut>(workers: usize, tasks: usize, duration: Duration, op: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime");
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    runtime.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let (op, done) = (op.clone(), done.clone());
            handles.push(tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    op().await;
                    count += 1;
                    if count.is_multiple_of(16) {
                        tokio::task::yield_now().await;
                    }
                }
                done.fetch_add(count, Ordering::Relaxed);
            }));
        }
        for handle in handles {
            handle.await.expect("a task finished");
        }
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`), or 0 where
/// there is no such file.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn interleaved_rounds_alternate_and_pair_up() {
        let order = std::cell::RefCell::new(Vec::new());
        let paired = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(interleaved(
                3,
                4,
                async |n| {
                    order.borrow_mut().push('a');
                    Duration::from_nanos(30 * n as u64)
                },
                async |n| {
                    order.borrow_mut().push('b');
                    Duration::from_nanos(10 * n as u64)
                },
            ));
        // The warm-up pair, then a b, b a, a b.
        assert_eq!(order.into_inner(), ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']);
        assert_eq!(paired.first_ns, 30.0);
        assert_eq!(paired.second_ns, 10.0);
        assert_eq!(paired.ratio, 3.0);
    }

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes() > 0);
        }
    }
}
