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
