//! The system under test started inside the tool: `chat_backend::run` in single-process mode
//! (SQLite and in-memory presence and events) on a temporary data directory.

use std::path::PathBuf;

use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Embedded {
    /// The gateway's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    data_dir: PathBuf,
}

impl Embedded {
    pub async fn start() -> anyhow::Result<Self> {
        let data_dir =
            std::env::temp_dir().join(format!("chat-bench-{}", uuid::Uuid::new_v4().simple()));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let options = chat_backend::Options::try_parse_from([
            "chat-backend".as_ref(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--data-dir".as_ref(),
            data_dir.as_os_str(),
        ])?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(chat_backend::run(options, listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            url,
            stop: Some(stop),
            task,
            data_dir,
        })
    }

    /// Drains the server (sockets close with 1012), waits for it, and removes its data.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(40), task).await;
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
