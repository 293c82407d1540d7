//! The project an agent works on: the name of the git root above its cwd, or
//! else the cwd's last component. Results are cached per cwd.
//!
//! It deliberately does not run git or parse `.git`; a `.git` directory or
//! file (worktrees, submodules) marks the root.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The project name for `cwd`: the directory holding the nearest `.git`
/// (directory or file) at or above `cwd`, else `cwd`'s last component.
pub fn project_of(cwd: &Path) -> Option<String> {
    let root = cwd
        .ancestors()
        .find(|dir| dir.join(".git").symlink_metadata().is_ok());
    root.and_then(Path::file_name)
        .or_else(|| cwd.file_name())
        .map(|name| name.to_string_lossy().into_owned())
}

/// [`project_of`] with a cache that forgets cwds no agent used in the last scan.
#[derive(Debug, Default)]
pub(crate) struct ProjectCache {
    entries: HashMap<PathBuf, (Option<String>, u64)>,
}

impl ProjectCache {
    pub fn get(&mut self, cwd: &Path, generation: u64) -> Option<String> {
        if let Some((project, seen)) = self.entries.get_mut(cwd) {
            *seen = generation;
            return project.clone();
        }
        let project = project_of(cwd);
        self.entries
            .insert(cwd.to_path_buf(), (project.clone(), generation));
        project
    }

    /// Drop entries not used since `generation`.
    pub fn prune(&mut self, generation: u64) {
        self.entries.retain(|_, (_, seen)| *seen >= generation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_is_the_git_root_above_the_cwd() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("myrepo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        assert_eq!(
            project_of(&repo.join("src/deep")).as_deref(),
            Some("myrepo")
        );
        assert_eq!(project_of(&repo).as_deref(), Some("myrepo"));
    }

    #[test]
    fn a_git_file_marks_a_worktree_root() {
        let tmp = tempfile::tempdir().unwrap();
        let wt = tmp.path().join("wt");
        std::fs::create_dir_all(wt.join("a")).unwrap();
        std::fs::write(wt.join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert_eq!(project_of(&wt.join("a")).as_deref(), Some("wt"));
    }

    #[test]
    fn without_git_the_project_is_the_cwds_last_component() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("plain");
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(project_of(&dir).as_deref(), Some("plain"));
    }

    #[test]
    fn the_cache_answers_repeats_and_forgets_unused_cwds() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        std::fs::create_dir_all(&dir).unwrap();
        let mut cache = ProjectCache::default();
        assert_eq!(cache.get(&dir, 1).as_deref(), Some("p"));
        std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
        assert_eq!(cache.get(&dir, 2).as_deref(), Some("p"), "cached");
        cache.prune(3);
        assert!(cache.entries.is_empty());
    }
}
