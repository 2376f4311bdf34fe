//! Latency percentiles of a scenario's samples.

use std::time::Duration;

/// The latencies of one scenario, summarized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Latency {
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The slowest sample.
    pub max: Duration,
}

impl Latency {
    /// Summarizes `samples` (in any order; sorted here). Nearest-rank percentiles: the
    /// p-th percentile is the smallest sample with at least p% of the samples at or below
    /// it. No samples give zeros.
    pub fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self {
            p50: percentile(&samples, 50),
            p99: percentile(&samples, 99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// The nearest-rank `p`-th percentile of the sorted `samples`.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let latency = Latency::of(ms(&(1..=100).rev().collect::<Vec<_>>()));
        assert_eq!(latency.p50, Duration::from_millis(50));
        assert_eq!(latency.p99, Duration::from_millis(99));
        assert_eq!(latency.max, Duration::from_millis(100));

        let one = Latency::of(ms(&[7]));
        assert_eq!(
            (one.p50, one.p99, one.max),
            (ms(&[7])[0], ms(&[7])[0], ms(&[7])[0])
        );

        let few = Latency::of(ms(&[1, 2, 3]));
        assert_eq!(few.p50, Duration::from_millis(2));
        assert_eq!(few.p99, Duration::from_millis(3));

        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }
}
