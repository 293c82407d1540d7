//! Test fixtures: daemon-side records built the way the daemon builds them.

use reins_approval::broker::{ActionSpec, ApprovalRequest, RiskLevel};
use reins_core::{AgentId, AgentKind, AgentRecord, AgentState, ProcessKey};

pub fn agent(kind: AgentKind, pid: u32, state: AgentState) -> AgentRecord {
    let root = ProcessKey {
        pid,
        start_ticks: 1000 + u64::from(pid),
    };
    AgentRecord {
        id: AgentId {
            kind: kind.clone(),
            root,
        },
        display_name: kind.display_name().to_owned(),
        kind,
        pid,
        cwd: Some("/home/ada/reins".into()),
        project: Some("reins".into()),
        started_at: 1_700_000_000,
        cpu_percent: 1.5,
        memory_bytes: 1 << 20,
        descendants: 2,
        state,
        supervisor: None,
        unattended: None,
    }
}

pub fn request(command: &str, risk: RiskLevel) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: Some("s1".into()),
        tool_name: "Bash".into(),
        tool_input: serde_json::json!({ "command": command }),
        command: Some(command.into()),
        cwd: Some("/home/ada/reins".into()),
    };
    ApprovalRequest::new(spec, None, risk, 1_700_000_000_000, 90_000)
}

use reins_runtime::ipc::proto::{Request, Response, StreamEvent};
use reins_runtime::paths::Paths;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// Reins paths under `dir`, with the runtime directory created.
pub fn paths(dir: &std::path::Path) -> Paths {
    let p = Paths {
        config_dir: dir.join("config"),
        data_dir: dir.join("data"),
        runtime_dir: dir.join("run"),
    };
    std::fs::create_dir_all(&p.runtime_dir).unwrap();
    p
}

/// A stand-in daemon socket, bound before any client starts.
#[derive(Debug)]
pub struct FakeDaemon {
    listener: UnixListener,
}

impl FakeDaemon {
    pub fn bind(p: &Paths) -> FakeDaemon {
        FakeDaemon {
            listener: UnixListener::bind(p.socket()).unwrap(),
        }
    }

    /// Accept the next connection and read its one request.
    pub async fn accept(&self) -> (UnixStream, Request) {
        let (mut s, _) = self.listener.accept().await.unwrap();
        let mut line = String::new();
        BufReader::new(&mut s).read_line(&mut line).await.unwrap();
        (s, serde_json::from_str(&line).unwrap())
    }
}

/// Write one response line.
pub async fn reply(s: &mut UnixStream, r: &Response) {
    let mut line = serde_json::to_vec(r).unwrap();
    line.push(b'\n');
    s.write_all(&line).await.unwrap();
}

/// Write one stream event.
pub async fn send(s: &mut UnixStream, event: StreamEvent) {
    reply(s, &Response::Event { event }).await;
}
