//! What the report says about the machine: CPUs, their model, and the load average.

/// The machine a run was made on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPUs available to this process (what `nproc` prints).
    pub cpus: usize,
    /// The first `model name` of `/proc/cpuinfo`, or `unknown`.
    pub cpu_model: String,
}

impl Machine {
    /// Reads this machine.
    pub fn current() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Self {
            cpus,
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// The three load averages of `/proc/loadavg`, or an empty string where there is none.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first `model name` of a `/proc/cpuinfo` text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cpu_model() {
        let info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model(""), None);
        assert!(Machine::current().cpus >= 1);
    }
}
