//! The server and the load generator on separate CPUs: the server on one core and the
//! generator on the others, so that the generator's work does not count against the
//! server (and the server's runtime, which sizes itself to the CPUs it may use, runs one
//! worker). Done with `taskset` (util-linux), which every Linux distribution ships; where
//! it is missing or refused, or the process may use a single CPU, the run is unpinned and
//! the report says so.

use std::process::Command;

use crate::Error;

/// Which CPUs the server and the generator run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinning {
    /// The server's CPU.
    server: usize,
    /// The generator's CPUs: every other CPU this process may use.
    generator: Vec<usize>,
}

impl Pinning {
    /// The split of the CPUs this process may use (`Cpus_allowed_list` of
    /// `/proc/self/status`): the first for the server, the rest for the generator. `None`
    /// with fewer than two, or where the list cannot be read.
    pub fn plan() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        Self::split(&allowed_cpus(&status)?)
    }

    /// The split of `cpus`: the first for the server, the others for the generator.
    fn split(cpus: &[usize]) -> Option<Self> {
        let (&server, generator) = cpus.split_first()?;
        if generator.is_empty() {
            return None;
        }
        Some(Self {
            server,
            generator: generator.to_vec(),
        })
    }

    /// Moves every thread of this process (and so the threads it starts later) to the
    /// generator's CPUs: `taskset --all-tasks --pid --cpu-list <cpus> <pid>`.
    pub fn pin_generator(&self) -> Result<(), Error> {
        let status = Command::new("taskset")
            .args(["--all-tasks", "--pid", "--cpu-list"])
            .arg(cpu_list(&self.generator))
            .arg(std::process::id().to_string())
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("could not run taskset: {e}"))?;
        if !status.success() {
            return Err(format!("taskset could not pin the load generator: {status}").into());
        }
        Ok(())
    }

    /// A command that runs `program` on the server's CPU: `taskset --cpu-list <cpu>
    /// <program>`.
    pub fn server_command(&self, program: &std::path::Path) -> Command {
        let mut command = Command::new("taskset");
        command
            .arg("--cpu-list")
            .arg(self.server.to_string())
            .arg(program);
        command
    }

    /// The server's CPU (`3`).
    pub fn server_cpu(&self) -> usize {
        self.server
    }

    /// Whether a process whose `/proc/<pid>/status` reads `status` runs on the server's
    /// CPU alone.
    pub fn runs_on_server_cpu(&self, status: &str) -> bool {
        allowed_cpus(status).as_deref() == Some(&[self.server][..])
    }

    /// What the report says: which CPU runs what.
    pub fn describe(&self) -> String {
        format!(
            "the server on CPU {} (`taskset`), the load generator on CPU {}",
            self.server,
            cpu_list(&self.generator)
        )
    }
}

/// The CPUs of the `Cpus_allowed_list:` line of a `/proc/<pid>/status` text (`0-3,6`).
pub fn allowed_cpus(status: &str) -> Option<Vec<usize>> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))?;
    parse_cpu_list(line.trim())
}

/// `0-3,6` as `[0, 1, 2, 3, 6]`; `None` if any part is not a number or a range.
fn parse_cpu_list(list: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|part| !part.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
                if first > last {
                    return None;
                }
                cpus.extend(first..=last);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

/// `[0, 1, 2, 3, 6]` as `0,1,2,3,6` (what `taskset --cpu-list` takes).
fn cpu_list(cpus: &[usize]) -> String {
    cpus.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_allowed_cpus() {
        let status = "Name:\tx\nCpus_allowed:\tf\nCpus_allowed_list:\t0-3,6\nMems_allowed:\t1\n";
        assert_eq!(allowed_cpus(status), Some(vec![0, 1, 2, 3, 6]));
        assert_eq!(allowed_cpus("Cpus_allowed_list:\t1\n"), Some(vec![1]));
        assert_eq!(allowed_cpus("Cpus_allowed_list:\t3-1\n"), None);
        assert_eq!(allowed_cpus("Cpus_allowed_list:\tx\n"), None);
        assert_eq!(allowed_cpus("Name:\tx\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if !own.is_empty() {
            assert!(allowed_cpus(&own).is_some_and(|cpus| !cpus.is_empty()));
        }
    }

    #[test]
    fn the_server_gets_the_first_cpu_and_the_generator_the_rest() {
        let pinning = Pinning::split(&[2, 3, 5]).unwrap();
        assert_eq!(pinning.server_cpu(), 2);
        assert!(pinning.runs_on_server_cpu("Cpus_allowed_list:\t2\n"));
        assert!(!pinning.runs_on_server_cpu("Cpus_allowed_list:\t2-3\n"));
        assert!(!pinning.runs_on_server_cpu("Name:\tdemo\n"));
        assert_eq!(
            pinning.describe(),
            "the server on CPU 2 (`taskset`), the load generator on CPU 3,5"
        );
        let command = pinning.server_command(std::path::Path::new("/bin/demo"));
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(command.get_program(), "taskset");
        assert_eq!(args, ["--cpu-list", "2", "/bin/demo"]);
        // One CPU: nothing to split.
        assert_eq!(Pinning::split(&[0]), None);
        assert_eq!(Pinning::split(&[]), None);
    }
}
