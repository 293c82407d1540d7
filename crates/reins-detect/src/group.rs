//! Grouping classified processes into agents: a wrapper chain is one agent,
//! rooted at its top-most agent process, and owns every process below it.
//!
//! This is pure bookkeeping over `(pid, ppid, class)` rows with buffers that
//! are reused from scan to scan. It deliberately does not classify, read
//! `/proc` or compute usage; the scanner does that around it.

use crate::classify::Class;
use std::ops::Range;

/// One process as far as grouping cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    pub pid: u32,
    /// 0 when unknown or the kernel.
    pub ppid: u32,
    pub class: Option<Class>,
}

/// One agent: its root, its signature and its processes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub root: u32,
    pub signature: usize,
    /// Range into [`Forest::members`]; the root comes first.
    members: Range<usize>,
}

/// The process table of one scan, grouped into agents.
#[derive(Debug, Default)]
pub(crate) struct Forest {
    rows: Vec<Row>,
    children: Vec<(u32, u32)>,
    members: Vec<u32>,
    groups: Vec<Group>,
    stack: Vec<u32>,
}

impl Forest {
    /// Forget the previous scan, keeping the buffers.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.children.clear();
        self.members.clear();
        self.groups.clear();
    }

    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    fn row(&self, pid: u32) -> Option<&Row> {
        self.rows
            .binary_search_by_key(&pid, |r| r.pid)
            .ok()
            .map(|i| &self.rows[i])
    }

    /// Whether any ancestor of `pid` is an agent process.
    fn has_agent_ancestor(&self, row: &Row) -> bool {
        let mut ppid = row.ppid;
        // The depth bound guards against a corrupt (cyclic) parent chain.
        for _ in 0..self.rows.len() {
            let Some(parent) = self.row(ppid) else {
                return false;
            };
            if matches!(parent.class, Some(Class::Agent(_))) {
                return true;
            }
            if parent.ppid == parent.pid {
                return false;
            }
            ppid = parent.ppid;
        }
        false
    }

    /// Group the pushed rows into agents.
    pub fn build(&mut self) {
        self.rows.sort_unstable_by_key(|r| r.pid);
        self.children
            .extend(self.rows.iter().map(|r| (r.ppid, r.pid)));
        self.children.sort_unstable();
        for i in 0..self.rows.len() {
            let row = self.rows[i];
            let Some(Class::Agent(signature)) = row.class else {
                continue;
            };
            if self.has_agent_ancestor(&row) {
                continue;
            }
            let start = self.members.len();
            self.members.push(row.pid);
            self.stack.clear();
            self.stack.push(row.pid);
            while let Some(pid) = self.stack.pop() {
                let from = self.children.partition_point(|&(p, _)| p < pid);
                for &(p, child) in &self.children[from..] {
                    // The member count bound guards against cycles.
                    if p != pid || self.members.len() - start > self.rows.len() {
                        break;
                    }
                    if child != pid {
                        self.members.push(child);
                        self.stack.push(child);
                    }
                }
            }
            self.groups.push(Group {
                root: row.pid,
                signature,
                members: start..self.members.len(),
            });
        }
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The root and every process below it.
    pub fn members(&self, group: &Group) -> &[u32] {
        &self.members[group.members.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::ProcView;
    use crate::signature::SignatureTable;
    use reins_core::AgentKind;

    /// (pid, ppid, exe, argv)
    type Proc<'a> = (u32, u32, &'a str, &'a [&'a str]);

    /// Classify a synthetic table with the built-in signatures and group it.
    /// Returns (kind, root, sorted members).
    fn agents(procs: &[Proc<'_>]) -> Vec<(AgentKind, u32, Vec<u32>)> {
        let table = SignatureTable::builtin();
        let mut forest = Forest::default();
        for &(pid, ppid, exe, argv) in procs {
            let comm = exe.rsplit('/').next().unwrap();
            let class = table.classify(&ProcView { exe, argv, comm });
            forest.push(Row { pid, ppid, class });
        }
        forest.build();
        let mut out: Vec<_> = forest
            .groups()
            .iter()
            .map(|g| {
                let mut m = forest.members(g).to_vec();
                assert_eq!(m[0], g.root, "the root comes first");
                m.sort_unstable();
                (table.signatures()[g.signature].kind().clone(), g.root, m)
            })
            .collect();
        out.sort_by_key(|a| a.1);
        out
    }

    const NODE: &str = "/usr/bin/node";
    const SHIM: &str = "/n/@openai/codex/bin/codex.js";
    const NATIVE: &str = "/n/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex";
    const GEMINI: &str = "/n/@google/gemini-cli/dist/index.js";

    #[test]
    fn a_codex_shim_and_its_native_child_are_one_agent() {
        let got = agents(&[
            (1, 0, "/sbin/init", &["init"]),
            (100, 1, "/bin/bash", &["bash"]),
            (200, 100, NODE, &["node", SHIM]),
            (201, 200, NATIVE, &[NATIVE]),
            (
                202,
                201,
                "/usr/bin/codex-linux-sandbox",
                &["codex-linux-sandbox", "--", "ls"],
            ),
            (203, 202, "/bin/ls", &["ls"]),
        ]);
        assert_eq!(got, vec![(AgentKind::Codex, 200, vec![200, 201, 202, 203])]);
    }

    #[test]
    fn a_gemini_relaunch_is_one_agent() {
        let got = agents(&[
            (1, 0, "/sbin/init", &["init"]),
            (300, 1, NODE, &["node", GEMINI]),
            (
                301,
                300,
                NODE,
                &["node", "--max-old-space-size=8192", GEMINI],
            ),
            (302, 301, "/bin/sh", &["sh", "-c", "grep gemini x"]),
        ]);
        assert_eq!(got, vec![(AgentKind::GeminiCli, 300, vec![300, 301, 302])]);
    }

    #[test]
    fn claude_helpers_belong_to_their_agent_and_never_stand_alone() {
        let v = "/h/.local/share/claude/versions/2.1.3";
        let got = agents(&[
            (1, 0, "/sbin/init", &["init"]),
            (10, 1, v, &["claude"]),
            (11, 10, v, &["claude", "--bg-pty-host"]),
            (12, 11, "/bin/bash", &["bash"]),
            (20, 1, v, &["claude", "--bg-pty-host"]),
        ]);
        assert_eq!(got, vec![(AgentKind::ClaudeCode, 10, vec![10, 11, 12])]);
    }

    #[test]
    fn an_agent_started_by_another_agent_is_absorbed_by_the_top_most_one() {
        let got = agents(&[
            (1, 0, "/sbin/init", &["init"]),
            (10, 1, "/usr/bin/claude", &["claude"]),
            (11, 10, "/bin/bash", &["bash", "-c", "codex exec"]),
            (12, 11, "/usr/bin/codex", &["codex", "exec"]),
        ]);
        assert_eq!(got, vec![(AgentKind::ClaudeCode, 10, vec![10, 11, 12])]);
    }

    #[test]
    fn separate_agents_stay_separate_and_false_positives_are_ignored() {
        let got = agents(&[
            (1, 0, "/sbin/init", &["init"]),
            (10, 1, "/usr/bin/claude", &["claude"]),
            (20, 1, "/usr/bin/cursor-agent", &["cursor-agent"]),
            (21, 20, "/bin/sleep", &["sleep", "100"]),
            (30, 1, "/usr/bin/grep", &["grep", "claude"]),
            (31, 1, "/usr/bin/vim", &["vim", "CLAUDE.md"]),
            (
                32,
                1,
                "/usr/bin/reins",
                &["reins", "hook", "claude", "stop"],
            ),
        ]);
        assert_eq!(
            got,
            vec![
                (AgentKind::ClaudeCode, 10, vec![10]),
                (AgentKind::Cursor, 20, vec![20, 21])
            ]
        );
    }

    #[test]
    fn an_orphaned_native_child_becomes_its_own_agent() {
        let got = agents(&[(1, 0, "/sbin/init", &["init"]), (201, 1, NATIVE, &[NATIVE])]);
        assert_eq!(got, vec![(AgentKind::Codex, 201, vec![201])]);
    }

    #[test]
    fn a_cyclic_parent_chain_does_not_hang() {
        let got = agents(&[
            (5, 6, "/usr/bin/goose", &["goose"]),
            (6, 5, "/bin/sh", &["sh"]),
        ]);
        assert!(got.len() <= 1);
    }

    #[test]
    fn clearing_reuses_the_forest_for_the_next_scan() {
        let mut forest = Forest::default();
        forest.push(Row {
            pid: 1,
            ppid: 0,
            class: Some(Class::Agent(0)),
        });
        forest.build();
        assert_eq!(forest.groups().len(), 1);
        forest.clear();
        forest.build();
        assert!(forest.groups().is_empty());
    }
}
