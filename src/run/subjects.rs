//! What a run measures: the stores it serves with replicas it starts, each in a namespace of
//! the run's own, or one deployment already running elsewhere (`--target`).

use crate::harness::{probe, Deployment, Target};
use crate::results::StoreRecord;
use crate::scenario::Scenario;

/// The run's columns.
pub enum Subjects {
    Stores(Vec<Target>),
    Remote(Deployment),
}

/// One of [`Subjects`]: a column of the run.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    Store(&'a Target),
    Remote(&'a Deployment),
}

impl Subjects {
    /// The deployment, or else `urls` opened in namespaces of the run's own; with the record
    /// of every store asked for (those that did not answer are skipped, with the reason).
    pub async fn open(urls: &[String], deployment: Option<Deployment>) -> (Self, Vec<StoreRecord>) {
        match deployment {
            None => {
                let (targets, stores) = probe(urls, "run").await;
                (Subjects::Stores(targets), stores)
            }
            Some(deployment) => {
                let stores = vec![deployment.record()];
                (Subjects::Remote(deployment), stores)
            }
        }
    }

    pub fn count(&self) -> usize {
        match self {
            Subjects::Stores(targets) => targets.len(),
            Subjects::Remote(_) => 1,
        }
    }

    fn get(&self, index: usize) -> Subject<'_> {
        match self {
            Subjects::Stores(targets) => Subject::Store(&targets[index]),
            Subjects::Remote(deployment) => Subject::Remote(deployment),
        }
    }

    /// Every subject, starting one further each round, so that no store always goes first
    /// (or right after the same neighbour).
    pub fn rotated(&self, round: usize) -> impl Iterator<Item = Subject<'_>> {
        let count = self.count();
        (0..count).map(move |t| self.get((t + round - 1) % count))
    }

    /// Removes the namespaces the run made in its stores (servers running elsewhere have
    /// none); a namespace that cannot be removed is named in a warning.
    pub async fn remove_namespaces(self) {
        let targets = match self {
            Subjects::Stores(targets) => targets,
            Subjects::Remote(_) => Vec::new(),
        };
        for target in targets {
            let name = target.name.clone();
            if let Err(e) = target.remove().await {
                eprintln!("warning: could not remove the run's namespace in {name}: {e}");
            }
        }
    }
}

impl Subject<'_> {
    /// The store's short name, as the results name it.
    pub fn name(&self) -> &str {
        match self {
            Subject::Store(target) => &target.name,
            Subject::Remote(deployment) => &deployment.store,
        }
    }

    /// Why `scenario` cannot be measured here, if it cannot.
    pub fn not_applicable(&self, scenario: &Scenario) -> Option<String> {
        match self {
            Subject::Store(_) if scenario.outage.is_none() => None,
            Subject::Store(target) if !target.handle().capabilities().shared => {
                Some("an in-process store cannot be cut off from its server".to_string())
            }
            Subject::Store(target) if target.url.starts_with("redis-cluster://") => Some(
                "a cluster's clients connect to every node it announces: one forwarder cannot cut them off"
                    .to_string(),
            ),
            Subject::Store(_) => None,
            Subject::Remote(deployment) => deployment.not_applicable(scenario),
        }
    }
}
