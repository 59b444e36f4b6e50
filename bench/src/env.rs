//! What every scenario works with: the checked gateway URLs, the REST client, the source
//! addresses, the run's clock, and a run id that keeps its user names apart from other runs.

use anyhow::bail;
use reqwest::Url;

use crate::cli::Protocol;
use crate::clock::Clock;
use crate::rest::Api;
use crate::target::{self, Sources};

pub struct Env {
    pub gateways: Vec<Url>,
    pub api: Api,
    pub sources: Sources,
    pub clock: Clock,
    pub run_id: String,
    pub setup_concurrency: usize,
    pub protocol: Protocol,
}

impl Env {
    pub fn new(
        gateways: &[String],
        source_addrs: u8,
        setup_concurrency: usize,
        protocol: Protocol,
    ) -> anyhow::Result<Self> {
        if gateways.is_empty() {
            bail!("name at least one --gateway http://127.0.0.1:PORT, or use --embedded");
        }
        let gateways = gateways
            .iter()
            .map(|g| target::loopback(g))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        Ok(Self {
            gateways,
            api: Api::new()?,
            sources: Sources::new(source_addrs),
            clock: Clock::new(),
            run_id,
            setup_concurrency: setup_concurrency.clamp(1, 1024),
            protocol,
        })
    }

    /// The gateway the `index`-th client uses: clients take the replicas in turn.
    pub fn gateway_for(&self, index: usize) -> usize {
        index % self.gateways.len()
    }

    pub fn targets(&self) -> Vec<String> {
        self.gateways
            .iter()
            .map(|g| g.as_str().trim_end_matches('/').to_owned())
            .collect()
    }
}
