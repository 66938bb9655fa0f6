"""ProjectSync against a real sshd: what is pushed, what is never overwritten or deleted."""

from __future__ import annotations

import os
import threading

import pytest

from spyder_kernel_connect.sync import (
    ConflictKind,
    LocalFolderInvalid,
    ProjectSync,
    PushFailed,
    RemoteFolderInvalid,
    Resolution,
    SyncCancelled,
)
from spyder_kernel_connect.sync.remote_folder import STAGING_PREFIX
from tests.sync.conftest import tree, write

pytestmark = pytest.mark.sshd


def make(session, project, host_dir, **kwargs) -> ProjectSync:
    return ProjectSync(session, str(project), str(host_dir), **kwargs)


def test_initial_push_sends_the_project_without_excluded_paths(session, project, host_dir):
    write(project / "pkg" / "__init__.py", "")
    write(project / "pkg" / "mod.py", "X = 1\n")
    write(project / "main.py", "import pkg.mod\n")
    write(project / "run.sh", "#!/bin/sh\necho hi\n")
    os.chmod(project / "run.sh", 0o755)
    write(project / "data" / "keep.log", "kept by a negation\n")
    # Excluded by rule: version control, caches, venvs (by their marker), checkpoints.
    write(project / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(project / "pkg" / "__pycache__" / "mod.cpython-311.pyc", b"\0bytecode")
    write(project / "env" / "pyvenv.cfg", "home = /usr/bin\n")
    write(project / "env" / "lib" / "site.py", "")
    write(project / "conda" / "conda-meta" / "history", "")
    write(project / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", "{}")
    # Excluded by .gitignore (root and nested, with a negation) and by size.
    write(project / ".gitignore", "*.log\n!keep.log\nbuild/\n")
    write(project / "data" / "run.log", "ignored\n")
    write(project / "build" / "out.py", "ignored\n")
    write(project / "pkg" / ".gitignore", "secret_*.py\n")
    write(project / "pkg" / "secret_token.py", "TOKEN = 1\n")
    write(project / "big.bin", b"x" * 2048)

    report = make(session, project, host_dir, max_file_size=1024).push_all()

    expected = {
        ".gitignore",
        "data/keep.log",
        "main.py",
        "pkg/.gitignore",
        "pkg/__init__.py",
        "pkg/mod.py",
        "run.sh",
    }
    assert set(tree(host_dir)) == expected
    assert sorted(report.pushed) == sorted(expected)
    assert report.skipped == [("big.bin", "larger than the size limit (1 KiB)")]
    for rel in expected:
        assert (host_dir / rel).read_bytes() == (project / rel).read_bytes()
    assert os.stat(host_dir / "run.sh").st_mode & 0o777 == 0o755
    assert int(os.stat(host_dir / "main.py").st_mtime) == int(os.stat(project / "main.py").st_mtime)
    assert not [p for p in host_dir.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_second_push_sends_only_what_changed(session, project, host_dir):
    for index in range(20):
        write(project / f"m{index}.py", f"V = {index}\n")
    sync = make(session, project, host_dir)
    assert len(sync.push_all().pushed) == 20

    write(project / "m3.py", "V = 'three'\n")
    os.utime(project / "m4.py")  # touched, same content: not sent again
    again = make(session, project, host_dir).push_all()  # a new process reads the record

    assert again.pushed == ["m3.py"]
    assert again.unchanged == 19
    assert (host_dir / "m3.py").read_text() == "V = 'three'\n"


def test_a_host_copy_edited_behind_our_back_is_never_overwritten_silently(
    session, project, host_dir
):
    write(project / "mod.py", "ours = 1\n")
    make(session, project, host_dir).push_all()
    write(host_dir / "mod.py", "theirs = 'edited on the cluster'\n")
    write(project / "mod.py", "ours = 2\n")
    asked = []

    def keep(conflict):
        asked.append(conflict)
        return Resolution.KEEP_HOST

    report = make(session, project, host_dir, on_conflict=keep).push_all()
    assert [c.rel for c in asked] == ["mod.py"]
    assert asked[0].kind is ConflictKind.CHANGED_ON_HOST
    assert report.conflicts_kept == ["mod.py"]
    assert (host_dir / "mod.py").read_text() == "theirs = 'edited on the cluster'\n"

    # Without a handler (the CLI without --overwrite) it is left too, and reported.
    assert make(session, project, host_dir).push_all().conflicts_kept == ["mod.py"]

    report = make(session, project, host_dir, on_conflict=lambda c: Resolution.OVERWRITE).push_all()
    assert (host_dir / "mod.py").read_text() == "ours = 2\n"
    (aside,) = report.kept_aside
    assert aside.startswith("mod.py.remote-")
    assert (host_dir / aside).read_text() == "theirs = 'edited on the cluster'\n"


def test_same_size_edit_on_the_host_is_seen_by_its_mtime(session, project, host_dir):
    write(project / "mod.py", "A = 1\n")
    make(session, project, host_dir).push_all()
    write(host_dir / "mod.py", "B = 2\n")
    later = os.stat(host_dir / "mod.py").st_mtime + 5
    os.utime(host_dir / "mod.py", (later, later))
    write(project / "mod.py", "A = 3\n")
    report = make(session, project, host_dir).push_all()
    assert report.conflicts_kept == ["mod.py"]
    assert (host_dir / "mod.py").read_text() == "B = 2\n"


def test_existing_host_files_are_adopted_when_equal_and_protected_when_not(
    session, project, host_dir
):
    write(project / "same.py", "S = 1\n")
    write(project / "other.py", "O = 'local'\n")
    write(host_dir / "same.py", "S = 1\n")
    write(host_dir / "other.py", "O = 'on the host'\n")
    asked = []
    report = make(
        session, project, host_dir, on_conflict=lambda c: asked.append(c) or Resolution.KEEP_HOST
    ).push_all()
    assert report.pushed == []
    assert report.unchanged == 1
    assert [(c.rel, c.kind) for c in asked] == [("other.py", ConflictKind.OTHER_ON_HOST)]
    assert (host_dir / "other.py").read_text() == "O = 'on the host'\n"


def test_deletion_only_of_copies_we_pushed(session, project, host_dir):
    for name in ("gone.py", "edited.py", "kept.py"):
        write(project / name, f"# {name}\n")
    make(session, project, host_dir).push_all()
    write(host_dir / "edited.py", "# somebody changed this on the host\n")
    (project / "gone.py").unlink()
    (project / "edited.py").unlink()

    report = make(session, project, host_dir).push_all()
    assert report.deleted == ["gone.py"]
    assert report.not_deleted == ["edited.py"]
    assert not (host_dir / "gone.py").exists()
    assert (host_dir / "edited.py").read_text() == "# somebody changed this on the host\n"
    assert (host_dir / "kept.py").exists()
    assert make(session, project, host_dir).push_all(delete=False).deleted == []


def test_cancel_halfway_through_a_large_push_leaves_no_partial_file(session, project, host_dir):
    blob = os.urandom(20_000)
    for index in range(1000):
        write(project / f"d{index % 10}" / f"f{index}.dat", blob + str(index).encode())
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done > total // 2:
            cancel.set()

    with pytest.raises(SyncCancelled):
        make(session, project, host_dir).push_all(cancel=cancel, progress=progress)
    assert seen and seen[-1] < 1000 * 20_000
    landed = tree(host_dir) if host_dir.exists() else {}
    assert landed == {}  # the stream never completed: nothing moved into place
    assert not [p for p in host_dir.iterdir() if p.name.startswith(STAGING_PREFIX)]

    # The next push completes it.
    report = make(session, project, host_dir).push_all()
    assert len(report.pushed) == 1000
    assert tree(host_dir) == tree(project)


def test_a_failed_push_says_why_leaves_nothing_half_written_and_is_retried(
    session, project, host_dir
):
    write(project / "pkg" / "mod.py", "X = 1\n")
    write(host_dir / "pkg", "a file where the project has a folder\n")
    sync = make(session, project, host_dir)
    with pytest.raises(PushFailed, match="pkg"):
        sync.push_paths([str(project / "pkg" / "mod.py")])
    assert sorted(p.name for p in host_dir.iterdir()) == ["pkg"]

    (host_dir / "pkg").unlink()
    assert sync.push_paths([str(project / "pkg" / "mod.py")]).pushed == ["pkg/mod.py"]
    assert (host_dir / "pkg" / "mod.py").read_text() == "X = 1\n"


def test_a_write_failing_on_the_host_leaves_its_file_as_it_was(session, project, host_dir):
    """Disk full: the temporary file the save is written to takes no data (it is /dev/full
    here, by a symlink). The push fails with that reason and the host keeps its copy."""
    write(project / "mod.py", "X = 1\n")
    sync = make(session, project, host_dir)
    sync.push_all()
    write(project / "mod.py", "X = 2\n" * 20_000)  # several SFTP writes
    os.symlink("/dev/full", host_dir / ".mod.py.skc-tmp")
    with pytest.raises(PushFailed, match=r"mod\.py") as failure:
        sync.push_paths([str(project / "mod.py")])
    assert "could not write" in str(failure.value) and "disk full" in str(failure.value)
    assert (host_dir / "mod.py").read_text() == "X = 1\n"
    assert not (host_dir / "mod.py").is_symlink()
    assert not os.path.lexists(host_dir / ".mod.py.skc-tmp")  # nothing left aside either
    assert sync.push_paths([str(project / "mod.py")]).pushed == ["mod.py"]  # retried: lands
    assert (host_dir / "mod.py").read_text() == "X = 2\n" * 20_000


def test_a_failed_batch_push_leaves_nothing_behind(session, project, host_dir):
    for index in range(12):
        write(project / "pkg" / f"m{index}.py", f"V = {index}\n")
    write(host_dir / "pkg", "a file where the project has a folder\n")
    with pytest.raises(PushFailed, match="12 files"):
        make(session, project, host_dir).push_all()
    assert sorted(p.name for p in host_dir.iterdir()) == ["pkg"]


def test_saves_outside_the_project_or_excluded_are_not_pushed(session, project, host_dir, tmp_path):
    write(project / ".gitignore", "scratch.py\n")
    write(project / "scratch.py", "x = 1\n")
    write(project / "__pycache__" / "m.pyc", b"\0")
    write(tmp_path / "elsewhere.py", "y = 2\n")
    sync = make(session, project, host_dir)
    report = sync.push_paths(
        [
            str(project / "scratch.py"),
            str(project / "__pycache__" / "m.pyc"),
            str(tmp_path / "elsewhere.py"),
        ]
    )
    assert report.pushed == []
    assert not sync.is_synced(str(project / "scratch.py"))
    assert sync.is_synced(str(project / ".gitignore"))


def test_path_mapping_both_ways(session, project, host_dir):
    sync = make(session, project, host_dir)
    local = str(project / "pkg" / "mod.py")
    remote = f"{host_dir}/pkg/mod.py"
    assert sync.to_remote(local) == remote
    assert sync.to_local(remote) == local
    assert sync.to_local("/elsewhere/mod.py") is None
    assert sync.to_remote("/elsewhere/mod.py") is None


def test_bad_folders_have_plain_errors(session, project, tmp_path):
    with pytest.raises(LocalFolderInvalid, match="does not exist"):
        ProjectSync(session, str(tmp_path / "missing"), str(tmp_path / "x"))
    with pytest.raises(RemoteFolderInvalid, match="neither absolute nor under ~"):
        ProjectSync(session, str(project), "relative/dir")
    write(tmp_path / "a-file", "")
    write(project / "m.py", "")
    with pytest.raises(RemoteFolderInvalid, match="cannot be used"):
        ProjectSync(session, str(project), str(tmp_path / "a-file")).push_all()


def test_home_relative_remote_folder_is_resolved_by_the_host(session, project):
    write(project / "m.py", "M = 1\n")
    sync = ProjectSync(session, str(project), "~/skc-sync-test-home")
    assert sync.remote_dir == "~/skc-sync-test-home"  # no network until the first push
    try:
        assert sync.push_all().pushed == ["m.py"]
        home = session.sftp().normalize(".")
        assert sync.remote_dir == f"{home}/skc-sync-test-home"
        assert sync.to_remote(str(project / "m.py")) == f"{home}/skc-sync-test-home/m.py"
    finally:
        session.run("rm -rf ~/skc-sync-test-home")
