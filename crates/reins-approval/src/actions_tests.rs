use super::*;
use serde_json::json;

fn shell(cmd: &str) -> Classified {
    let root = Path::new("/w/proj");
    let home = Path::new("/home/u");
    let view = ActionView {
        tool_name: Some("Bash"),
        command: Some(cmd),
        cwd: Some("/w/proj/src"),
        ..ActionView::default()
    };
    classify(
        &view,
        &ActionContext {
            project_root: Some(root),
            home: Some(home),
        },
    )
}

fn tool(name: &str, input: serde_json::Value) -> Classified {
    let view = ActionView {
        tool_name: Some(name),
        tool_input: Some(&input),
        cwd: Some("/w/proj"),
        ..ActionView::default()
    };
    classify(
        &view,
        &ActionContext {
            project_root: Some(Path::new("/w/proj")),
            home: None,
        },
    )
}

#[test]
fn rm_counts_one_deletion_per_operand_and_a_recursive_rm_is_bulk() {
    assert_eq!(shell("rm a b c").deletions, 3);
    let r = shell("rm -rf build");
    assert_eq!((r.deletions, r.bulk_deletion), (1, true));
    assert!(!shell("rm a").bulk_deletion);
    assert_eq!(shell("rm -- -weird").deletions, 1);
    assert_eq!(shell("rmdir x && unlink y").deletions, 2);
}

#[test]
fn other_shell_deletions_are_recognised() {
    for cmd in [
        "find . -name '*.o' -delete",
        "git clean -fdx",
        "cargo clean",
        "curl -X DELETE https://api.example/messages/1",
        "himalaya message delete 42",
        "gh repo delete me/x --yes",
        "psql -c 'DELETE FROM mails WHERE id=1'",
        "sqlite3 db.sqlite 'DROP TABLE t'",
        "sudo -u root rm x",
    ] {
        assert_eq!(shell(cmd).deletions, 1, "{cmd}");
    }
    assert_eq!(shell("git rm a b").deletions, 2);
    assert_eq!(
        shell("mysql -e 'DELETE FROM a; DELETE FROM b; TRUNCATE c'").deletions,
        3
    );
}

#[test]
fn reading_searching_and_building_delete_nothing() {
    for cmd in [
        "ls -la",
        "grep -r delete src",
        "echo rm -rf /",
        "git clean -n",
        "cargo build --release",
        "git commit -m 'delete old code'",
        "curl https://example.com",
        "npm test",
        "psql -c 'SELECT * FROM t'",
    ] {
        assert_eq!(shell(cmd).deletions, 0, "{cmd}");
    }
}

#[test]
fn deleting_tools_count_one_per_id_in_a_batch() {
    assert_eq!(
        tool("mcp__gmail__delete_email", json!({"id": "1"})).deletions,
        1
    );
    assert_eq!(
        tool(
            "mcp__gmail__batch_trash",
            json!({"message_ids": ["1", "2", "3"]})
        )
        .deletions,
        3
    );
    assert_eq!(tool("delete_file", json!({"path": "a.txt"})).deletions, 1);
    assert_eq!(
        tool("mcp__db__query", json!({"sql": "DROP TABLE users"})).deletions,
        1
    );
    assert_eq!(tool("mcp__gmail__list_emails", json!({})).deletions, 0);
    assert_eq!(
        tool("Read", json!({"file_path": "/etc/passwd"})).deletions,
        0
    );
}

#[test]
fn writes_outside_the_project_are_listed_and_scratch_space_is_not() {
    assert_eq!(shell("echo x > /etc/motd").writes_outside, ["/etc/motd"]);
    assert_eq!(shell("cp a ~/bin/a").writes_outside, ["/home/u/bin/a"]);
    assert_eq!(shell("rm ../../other/x").writes_outside, ["/w/other/x"]);
    for cmd in [
        "echo x > out.txt",
        "cargo build 2>&1 > /dev/null",
        "echo x > /tmp/scratch",
        "cp a ../b",
        "touch /w/proj/new",
        "cat /etc/passwd",
    ] {
        assert!(shell(cmd).writes_outside.is_empty(), "{cmd}");
    }
    assert_eq!(
        tool(
            "Write",
            json!({"file_path": "/home/u/.bashrc", "content": "x"})
        )
        .writes_outside,
        ["/home/u/.bashrc"]
    );
    assert!(
        tool("Write", json!({"file_path": "src/a.rs"}))
            .writes_outside
            .is_empty()
    );
    assert!(
        tool("Read", json!({"file_path": "/etc/hosts"}))
            .writes_outside
            .is_empty()
    );
}

#[test]
fn without_a_project_root_no_write_is_outside() {
    let view = ActionView {
        command: Some("echo x > /etc/motd"),
        ..ActionView::default()
    };
    assert!(
        classify(&view, &ActionContext::default())
            .writes_outside
            .is_empty()
    );
}

#[test]
fn pushes_to_protected_branches_and_forced_pushes_are_counted() {
    for cmd in [
        "git push origin main",
        "git push origin HEAD:master",
        "git push origin feature:refs/heads/release/1.2",
        "git push -f origin feature",
        "git push origin +feature",
        "git push --force-with-lease origin x",
        "git -C repo push --all",
    ] {
        assert_eq!(shell(cmd).protected_pushes, 1, "{cmd}");
    }
    for cmd in [
        "git push origin feature",
        "git push",
        "git pull origin main",
    ] {
        assert_eq!(shell(cmd).protected_pushes, 0, "{cmd}");
    }
    assert!(shell("git push -f origin x").force_push);
    assert!(!shell("git push origin main").force_push);
}

#[test]
fn every_class_counts_a_tool_call_once() {
    let c = shell("ls");
    assert_eq!(c.count(ActionClass::ToolCall), 1);
    assert_eq!(c.count(ActionClass::Deletion), 0);
    for class in ActionClass::ALL {
        assert_eq!(ActionClass::from_word(class.word()), Some(class));
    }
}
