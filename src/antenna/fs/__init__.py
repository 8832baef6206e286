"""The only code that writes the disk: safe names, LibraryRoot, atomic writes and moves, trash, plan/apply.

Every path a user or a feed can influence goes through LibraryRoot (sanitised, byte-capped, refused if it
leaves the root); files are written to a temp file beside the target and then replaced; user media goes to
the trash instead of being deleted; plans are lists of FileOp, applied (or dry-run) into a ChangeLog.
"""

from antenna.fs.apply import apply
from antenna.fs.atomic import (
    atomic_move,
    atomic_write,
    atomic_write_text,
    atomic_writer,
    ensure_dir,
    remove_file,
    same_content,
)
from antenna.fs.bulk import (
    count_files,
    folder_stamp,
    make_dirs,
    move_generated,
    on_network_filesystem,
    prune_empty_dirs,
    remove_abandoned_new_folders,
    stamp_holds,
    write_generated,
    write_new_folder,
    write_new_folders,
)
from antenna.fs.datadir import prepare_data_dir, write_if_missing
from antenna.fs.lock import DataDirLock
from antenna.fs.names import sanitize_name, sanitize_relpath, truncate_utf8
from antenna.fs.ops import (
    Change,
    ChangeAction,
    ChangeLog,
    DeleteFile,
    FileOp,
    MakeDir,
    MoveFile,
    TrashFile,
    WriteFile,
)
from antenna.fs.root import LibraryRoot
from antenna.fs.trash import Trash, TrashEntry

__all__ = [
    "Change",
    "ChangeAction",
    "ChangeLog",
    "DataDirLock",
    "DeleteFile",
    "FileOp",
    "LibraryRoot",
    "MakeDir",
    "MoveFile",
    "Trash",
    "TrashEntry",
    "TrashFile",
    "WriteFile",
    "apply",
    "atomic_move",
    "atomic_write",
    "atomic_write_text",
    "atomic_writer",
    "count_files",
    "ensure_dir",
    "folder_stamp",
    "make_dirs",
    "move_generated",
    "on_network_filesystem",
    "prepare_data_dir",
    "prune_empty_dirs",
    "remove_abandoned_new_folders",
    "remove_file",
    "same_content",
    "sanitize_name",
    "sanitize_relpath",
    "stamp_holds",
    "truncate_utf8",
    "write_generated",
    "write_if_missing",
    "write_new_folder",
    "write_new_folders",
]
