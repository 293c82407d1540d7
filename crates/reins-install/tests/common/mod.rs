//! Shared fixtures for the integration tests: a temp home, a fake absolute
//! `reins` path and helpers to plan/apply. Not a test file itself.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reins_install::{Agent, Applied, Op, Plan, Scope, plan};
use tempfile::TempDir;

/// A fixed "now": 2023-11-14T22:13:20Z.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub const STAMP: &str = "20231114T221320";

#[derive(Debug)]
pub struct Env {
    _dir: TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub exe: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let home = root.join("home");
        fs::create_dir_all(&home).unwrap();
        Env {
            exe: root.join("opt/reins/bin/reins"),
            _dir: dir,
            root,
            home,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.home.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        fs::read_to_string(self.path(rel)).ok()
    }

    pub fn plan_with(&self, agent: Agent, scope: &Scope, exe: &Path, op: Op) -> Plan {
        plan(agent, scope, &self.home, exe, op).unwrap()
    }

    pub fn plan(&self, agent: Agent, op: Op) -> Plan {
        self.plan_with(agent, &Scope::User, &self.exe, op)
    }

    pub fn apply(&self, agent: Agent, op: Op) -> (Plan, Applied) {
        let p = self.plan(agent, op);
        let a = p.apply(now()).unwrap();
        (p, a)
    }

    pub fn apply_with(&self, agent: Agent, scope: &Scope, exe: &Path, op: Op) -> (Plan, Applied) {
        let p = self.plan_with(agent, scope, exe, op);
        let a = p.apply(now()).unwrap();
        (p, a)
    }

    /// Every backup file anywhere under the temp root.
    pub fn backups(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().contains(".reins-backup-") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}
